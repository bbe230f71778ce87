using System.Threading.RateLimiting;
using Microsoft.Extensions.Logging;
using Npgsql;
using Orchestrator.Core.Resilience;

namespace Orchestrator.Core.Llm.Limits;

/// <summary>
/// At most <c>permitLimit</c> permits in any <c>window</c>-long interval across every instance (a provider's requests
/// or tokens per minute). Grants are summed in short buckets of <c>llm_rate_buckets</c> stamped by the database
/// clock; a grant is decided under a transaction-scoped advisory lock per (provider, kind), counting every bucket that
/// overlaps the window. Token grants are estimates: <see cref="SettleAsync"/> corrects them to the tokens used.
/// Falls back to a local <see cref="SlidingWindowRateLimiter"/> with the same limit while PostgreSQL is unreachable.
/// </summary>
public sealed class ClusterRateLimiter : RateLimiter
{
    /// <summary>The kind of a requests-per-window limit (one permit per call).</summary>
    public const string Requests = "requests";

    /// <summary>The kind of a tokens-per-window limit (permits = a call's tokens).</summary>
    public const string Tokens = "tokens";

    // Namespaces this limiter's advisory locks (two-key form) apart from the product's other ones.
    private const int LockClass = 0x4C4C4D52;

    private const string LockSql = "SELECT pg_advisory_xact_lock(@class, hashtext(@provider || '/' || @kind))";

    private const string PruneSql = """
        DELETE FROM llm_rate_buckets
        WHERE provider = @provider AND kind = @kind AND bucket <= (extract(epoch FROM clock_timestamp()) * 1000)::bigint - @window - @width
        """;

    // Runs after the lock, so its snapshot sees every earlier grant, and reads the clock after the lock too: grants
    // are stamped in the order they were decided. Answers the granted bucket (null when it does not fit), and else
    // in how many milliseconds enough of the counted buckets leave the window.
    private const string GrantSql = """
        WITH clock AS MATERIALIZED (
            SELECT (extract(epoch FROM clock_timestamp()) * 1000)::bigint AS now_ms),
        recent AS MATERIALIZED (
            SELECT b.bucket, b.amount FROM llm_rate_buckets AS b, clock
            WHERE b.provider = @provider AND b.kind = @kind AND b.bucket > clock.now_ms - @window - @width),
        used AS (
            SELECT coalesce(sum(amount), 0)::bigint AS used FROM recent),
        granted AS (
            INSERT INTO llm_rate_buckets AS b (provider, kind, bucket, amount)
            SELECT @provider, @kind, clock.now_ms - clock.now_ms % @width, @permits FROM clock, used
            WHERE used.used + @permits <= @limit
            ON CONFLICT (provider, kind, bucket) DO UPDATE SET amount = b.amount + excluded.amount
            RETURNING b.bucket)
        SELECT
            (SELECT bucket FROM granted),
            (SELECT min(r.bucket) FROM (SELECT bucket, sum(amount) OVER (ORDER BY bucket) AS leaving FROM recent) AS r
             WHERE r.leaving >= used.used + @permits - @limit) + @window + @width - clock.now_ms
        FROM clock, used
        """;

    private const string SettleSql = """
        UPDATE llm_rate_buckets SET amount = greatest(amount + @delta, 0)
        WHERE provider = @provider AND kind = @kind AND bucket = @bucket
        """;

    private readonly string provider;
    private readonly string kind;
    private readonly int permitLimit;
    private readonly TimeSpan window;
    private readonly long windowMs;
    private readonly long widthMs;
    private readonly LlmLimitOptions options;
    private readonly TimeProvider time;
    private readonly ILogger logger;
    private readonly LimiterDatabase database;
    private readonly SlidingWindowRateLimiter fallback;
    private int queued;
    private long successful;
    private long failed;
    private long idleSince;

    public ClusterRateLimiter(
        string provider,
        string kind,
        int permitLimit,
        TimeSpan window,
        NpgsqlDataSource dataSource,
        LlmLimitOptions options,
        TimeProvider time,
        ILogger logger)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(permitLimit, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(window, TimeSpan.FromMilliseconds(100));
        this.provider = provider;
        this.kind = kind;
        this.permitLimit = permitLimit;
        this.window = window;
        windowMs = (long)window.TotalMilliseconds;
        // Sixty buckets a window: a grant is refused at most one bucket (1/60 of the window) sooner than an exact log would.
        widthMs = Math.Max(1, windowMs / 60);
        this.options = options;
        this.time = time;
        this.logger = logger;
        database = new LimiterDatabase(dataSource, options, time, logger, kind, provider);
        fallback = new SlidingWindowRateLimiter(new SlidingWindowRateLimiterOptions
        {
            PermitLimit = permitLimit,
            Window = window,
            SegmentsPerWindow = 10,
            QueueLimit = int.MaxValue,
            QueueProcessingOrder = QueueProcessingOrder.OldestFirst,
            AutoReplenishment = true,
        });
        idleSince = time.GetTimestamp();
    }

    public string Provider => provider;

    /// <summary><see cref="Requests"/> or <see cref="Tokens"/>.</summary>
    public string Kind => kind;

    public int PermitLimit => permitLimit;

    public TimeSpan Window => window;

    public override TimeSpan? IdleDuration =>
        Volatile.Read(ref queued) == 0 ? time.GetElapsedTime(Interlocked.Read(ref idleSince)) : null;

    public override RateLimiterStatistics? GetStatistics() => new()
    {
        // Other instances' grants are not known here without a query; the local fallback's view is what there is.
        CurrentAvailablePermits = fallback.GetStatistics()?.CurrentAvailablePermits ?? 0,
        CurrentQueuedCount = Volatile.Read(ref queued),
        TotalSuccessfulLeases = Interlocked.Read(ref successful),
        TotalFailedLeases = Interlocked.Read(ref failed),
    };

    /// <summary>
    /// Corrects the permits of <paramref name="lease"/> (an estimate) to <paramref name="actualPermits"/>: fewer give
    /// the difference back to the window at once, more count as used (even beyond the limit: they were). Does
    /// nothing for a refused lease or one of another limiter; may be called after the lease was disposed; never throws.
    /// </summary>
    public async ValueTask SettleAsync(RateLimitLease lease, int actualPermits, CancellationToken cancellationToken)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(actualPermits);
        if (lease is not WindowLease granted)
        {
            return;
        }

        var delta = granted.Settle(actualPermits);
        if (delta == 0)
        {
            return;
        }

        if (granted.Bucket is not { } bucket || !database.IsAvailable)
        {
            // The local window cannot take permits back; more are counted as far as it has room.
            if (delta > 0)
            {
                fallback.AttemptAcquire(Math.Min(delta, permitLimit)).Dispose();
            }

            return;
        }

        try
        {
            await database.RunAsync(
                async (connection, token) =>
                {
                    await using var batch = new NpgsqlBatch(connection) { Timeout = database.CommandTimeoutSeconds };
                    batch.BatchCommands.Add(Command(LockSql));
                    var settle = Command(SettleSql);
                    settle.Parameters.AddWithValue("delta", (long)delta);
                    settle.Parameters.AddWithValue("bucket", bucket);
                    batch.BatchCommands.Add(settle);
                    return await batch.ExecuteNonQueryAsync(token);
                },
                cancellationToken);
        }
        catch (Exception ex)
        {
            // Best effort, whatever went wrong (unreachable, disposed at shutdown): the call it settles has been paid
            // for and must not fail for this; the estimate then stands until the bucket leaves the window.
            Log.LimitWriteFailed(logger, kind, provider, "settling a lease", ex.Message);
        }
    }

    // Synchronous callers are rare (Polly awaits AcquireAsync): one look at the window, no waiting.
    protected override RateLimitLease AttemptAcquireCore(int permitCount) =>
        AcquireAsync(permitCount, TimeSpan.Zero, CancellationToken.None).AsTask().GetAwaiter().GetResult();

    protected override ValueTask<RateLimitLease> AcquireAsyncCore(int permitCount, CancellationToken cancellationToken) =>
        AcquireAsync(permitCount, options.QueueTimeout, cancellationToken);

    /// <summary>As <see cref="RateLimiter.AcquireAsync"/>, waiting at most <paramref name="queueTimeout"/> (zero: one look, no wait).</summary>
    internal async ValueTask<RateLimitLease> AcquireAsync(int permitCount, TimeSpan queueTimeout, CancellationToken cancellationToken)
    {
        if (permitCount > permitLimit)
        {
            Interlocked.Increment(ref failed);
            return new RefusedLease($"{permitCount} {kind} asked of provider '{provider}', which allows {permitLimit} per {window}: it can never fit", null);
        }

        if (permitCount == 0)
        {
            return GrantedLease.Empty;
        }

        var started = time.GetTimestamp();
        Interlocked.Increment(ref queued);
        try
        {
            while (true)
            {
                if (!database.IsAvailable)
                {
                    return Count(await FallbackAsync(permitCount, queueTimeout - time.GetElapsedTime(started), cancellationToken));
                }

                TimeSpan fitsIn;
                try
                {
                    var (bucket, wait) = await GrantAsync(permitCount, cancellationToken);
                    if (bucket is not null)
                    {
                        return Count(new WindowLease(bucket, permitCount));
                    }

                    fitsIn = wait;
                }
                catch (Exception ex) when (database.Unreachable(ex))
                {
                    continue;
                }

                var remaining = queueTimeout - time.GetElapsedTime(started);
                if (fitsIn > remaining)
                {
                    return Count(new RefusedLease(
                        $"{permitCount} {kind} of provider '{provider}' do not fit in its {permitLimit} per {window} within {queueTimeout}",
                        fitsIn < window ? fitsIn : window));
                }

                // Others wait for the same moment: spread them a little.
                await Task.Delay(fitsIn + options.PollInterval * Random.Shared.NextDouble(), time, cancellationToken);
            }
        }
        finally
        {
            Interlocked.Decrement(ref queued);
            Interlocked.Exchange(ref idleSince, time.GetTimestamp());
        }
    }

    private RateLimitLease Count(RateLimitLease lease)
    {
        Interlocked.Increment(ref lease.IsAcquired ? ref successful : ref failed);
        return lease;
    }

    /// <summary>One round trip: lock, prune, grant. The batch runs as one implicit transaction; the lock ends with it.</summary>
    private Task<(long? Bucket, TimeSpan FitsIn)> GrantAsync(int permitCount, CancellationToken cancellationToken) =>
        database.RunAsync(
            async (connection, token) =>
            {
                await using var batch = new NpgsqlBatch(connection) { Timeout = database.CommandTimeoutSeconds };
                batch.BatchCommands.Add(Command(LockSql));
                batch.BatchCommands.Add(Command(PruneSql));
                var grant = Command(GrantSql);
                grant.Parameters.AddWithValue("permits", (long)permitCount);
                grant.Parameters.AddWithValue("limit", (long)permitLimit);
                batch.BatchCommands.Add(grant);
                await using var reader = await batch.ExecuteReaderAsync(token);
                // The lock's row first (the prune returns no rows), then the grant's.
                await reader.NextResultAsync(token);
                await reader.ReadAsync(token);
                return reader.IsDBNull(0)
                    ? ((long?)null, TimeSpan.FromMilliseconds(reader.IsDBNull(1) ? widthMs : Math.Max(1, reader.GetInt64(1))))
                    : (reader.GetInt64(0), TimeSpan.Zero);
            },
            cancellationToken);

    private NpgsqlBatchCommand Command(string sql)
    {
        var command = new NpgsqlBatchCommand(sql);
        command.Parameters.AddWithValue("class", LockClass);
        command.Parameters.AddWithValue("provider", provider);
        command.Parameters.AddWithValue("kind", kind);
        command.Parameters.AddWithValue("window", windowMs);
        command.Parameters.AddWithValue("width", widthMs);
        return command;
    }

    private async Task<RateLimitLease> FallbackAsync(int permitCount, TimeSpan remaining, CancellationToken cancellationToken)
    {
        var refused = $"{permitCount} {kind} of provider '{provider}' do not fit in its {permitLimit} per {window} on this instance "
            + "(PostgreSQL unreachable: counting locally)";
        RateLimitLease lease;
        if (remaining <= TimeSpan.Zero)
        {
            lease = fallback.AttemptAcquire(permitCount);
        }
        else
        {
            using var timeout = new CancellationTokenSource(remaining, time);
            using var linked = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, timeout.Token);
            try
            {
                lease = await fallback.AcquireAsync(permitCount, linked.Token);
            }
            catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
            {
                return new RefusedLease(refused, window / 10);
            }
        }

        if (!lease.IsAcquired)
        {
            var retryAfter = lease.TryGetMetadata(MetadataName.RetryAfter, out var after) ? after : window / 10;
            lease.Dispose();
            return new RefusedLease(refused, retryAfter);
        }

        lease.Dispose();
        return new WindowLease(null, permitCount);
    }

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            fallback.Dispose();
        }

        base.Dispose(disposing);
    }

    protected override async ValueTask DisposeAsyncCore()
    {
        await fallback.DisposeAsync();
        await base.DisposeAsyncCore();
    }
}
