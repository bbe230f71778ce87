using System.Collections.Concurrent;
using System.Threading.RateLimiting;
using Microsoft.Extensions.Logging;
using Npgsql;
using NpgsqlTypes;
using Orchestrator.Core.Hosting;
using Orchestrator.Core.Resilience;

namespace Orchestrator.Core.Llm.Limits;

/// <summary>
/// At most <c>permitLimit</c> calls to one provider at a time across every instance: each permit is a slot row in
/// <c>llm_slots</c>, taken in one statement, renewed while held (one statement per limiter every
/// <see cref="LlmLimitOptions.SlotRenewInterval"/>) and given back when the lease is disposed. Falls back to a
/// local <see cref="ConcurrencyLimiter"/> with the same limit while PostgreSQL is unreachable.
/// </summary>
public sealed class ClusterConcurrencyLimiter : RateLimiter
{
    // Sets up the provider's slots in one round trip: grows them to the limit, drops free ones above it (another
    // configuration's), and frees those an earlier process of this instance left (InstanceIdentity.IsPredecessor's rule).
    private static readonly string[] SetupSql =
    [
        "INSERT INTO llm_slots (provider, slot) SELECT @provider, s FROM generate_series(0, @limit - 1) AS s ON CONFLICT DO NOTHING",
        "DELETE FROM llm_slots WHERE provider = @provider AND slot >= @limit AND (holder IS NULL OR lease_expires_at < now())",
        """
        UPDATE llm_slots SET holder = NULL, lease = NULL, lease_expires_at = NULL
        WHERE provider = @provider AND starts_with(holder, @instance) AND holder <> @holder
        """,
    ];

    // Takes @count free or expired slots, all or none; rows another acquirer is taking are skipped, not waited for.
    private const string TakeSql = """
        WITH free AS (
            SELECT slot FROM llm_slots
            WHERE provider = @provider AND slot < @limit AND (holder IS NULL OR lease_expires_at < now())
            ORDER BY slot
            LIMIT @count
            FOR UPDATE SKIP LOCKED)
        UPDATE llm_slots AS s SET holder = @holder, lease = @lease, lease_expires_at = now() + @ttl
        FROM free
        WHERE s.provider = @provider AND s.slot = free.slot AND (SELECT count(*) FROM free) = @count
        RETURNING s.slot
        """;

    private const string ReleaseSql = """
        UPDATE llm_slots SET holder = NULL, lease = NULL, lease_expires_at = NULL
        WHERE provider = @provider AND lease = @lease
        """;

    private const string RenewSql = """
        UPDATE llm_slots SET lease_expires_at = now() + @ttl
        WHERE provider = @provider AND lease = ANY(@leases)
        """;

    private readonly string provider;
    private readonly int permitLimit;
    private readonly InstanceIdentity identity;
    private readonly LlmLimitOptions options;
    private readonly TimeProvider time;
    private readonly ILogger logger;
    private readonly LimiterDatabase database;
    private readonly ConcurrencyLimiter fallback;
    private readonly ConcurrentDictionary<Guid, SlotLease> held = new();
    private readonly ConcurrentDictionary<Task, bool> releasing = new();
    private readonly ConcurrentQueue<TaskCompletionSource<bool>> waiters = new();
    private readonly SemaphoreSlim setupGate = new(1, 1);
    private readonly CancellationTokenSource stopping = new();
    private readonly Task renewals;
    private int setupEpoch = -1;
    private int queued;
    private long successful;
    private long failed;
    private long idleSince;

    public ClusterConcurrencyLimiter(
        string provider,
        int permitLimit,
        NpgsqlDataSource dataSource,
        InstanceIdentity identity,
        LlmLimitOptions options,
        TimeProvider time,
        ILogger logger)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(permitLimit, 1);
        this.provider = provider;
        this.permitLimit = permitLimit;
        this.identity = identity;
        this.options = options;
        this.time = time;
        this.logger = logger;
        database = new LimiterDatabase(dataSource, options, time, logger, "concurrency", provider);
        fallback = new ConcurrencyLimiter(new ConcurrencyLimiterOptions
        {
            PermitLimit = permitLimit,
            QueueLimit = int.MaxValue,
            QueueProcessingOrder = QueueProcessingOrder.OldestFirst,
        });
        idleSince = time.GetTimestamp();
        renewals = RenewLoopAsync();
    }

    /// <summary>The provider whose calls this limits.</summary>
    public string Provider => provider;

    /// <summary>How many calls may run at once across the cluster.</summary>
    public int PermitLimit => permitLimit;

    public override TimeSpan? IdleDuration =>
        held.IsEmpty && Volatile.Read(ref queued) == 0 ? time.GetElapsedTime(Interlocked.Read(ref idleSince)) : null;

    public override RateLimiterStatistics? GetStatistics() => new()
    {
        // What this process knows: the slots it holds; other instances hold theirs.
        CurrentAvailablePermits = Math.Max(0, permitLimit - held.Values.Sum(l => l.Slots.Length)),
        CurrentQueuedCount = Volatile.Read(ref queued),
        TotalSuccessfulLeases = Interlocked.Read(ref successful),
        TotalFailedLeases = Interlocked.Read(ref failed),
    };

    // Synchronous callers are rare (Polly awaits AcquireAsync): one look at the slots, no waiting.
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
            return new RefusedLease($"{permitCount} concurrency permits asked of provider '{provider}', which allows {permitLimit}", null);
        }

        if (permitCount == 0)
        {
            return GrantedLease.Empty;
        }

        var started = time.GetTimestamp();
        var pause = options.PollInterval;
        Interlocked.Increment(ref queued);
        try
        {
            while (true)
            {
                ObjectDisposedException.ThrowIf(stopping.IsCancellationRequested, this);
                if (!database.IsAvailable)
                {
                    return Count(await FallbackAsync(permitCount, queueTimeout - time.GetElapsedTime(started), cancellationToken));
                }

                try
                {
                    if (await TakeAsync(permitCount, cancellationToken) is { } lease)
                    {
                        return Count(lease);
                    }
                }
                catch (Exception ex) when (database.Unreachable(ex))
                {
                    continue;
                }

                var remaining = queueTimeout - time.GetElapsedTime(started);
                if (remaining <= TimeSpan.Zero)
                {
                    return Count(new RefusedLease(
                        $"all {permitLimit} concurrency slots of provider '{provider}' stayed taken for {queueTimeout}", options.MaxPollInterval));
                }

                await WaitForReleaseAsync(Min(Jitter(pause), remaining), cancellationToken);
                pause = Min(pause * 2, options.MaxPollInterval);
            }
        }
        finally
        {
            Interlocked.Decrement(ref queued);
        }
    }

    private RateLimitLease Count(RateLimitLease lease)
    {
        Interlocked.Increment(ref lease.IsAcquired ? ref successful : ref failed);
        return lease;
    }

    private async Task<RateLimitLease?> TakeAsync(int permitCount, CancellationToken cancellationToken)
    {
        if (setupEpoch != database.Epoch)
        {
            await SetUpAsync(cancellationToken);
        }

        var id = Guid.NewGuid();
        List<int> slots;
        try
        {
            slots = await TakeSlotsAsync(id, permitCount, cancellationToken);
        }
        catch
        {
            // The take may have committed before its reply was lost (a timeout, a cancellation): give back whatever
            // it took under this lease now rather than after the lease.
            Release(new SlotLease(this, id, []));
            throw;
        }

        if (slots.Count < permitCount)
        {
            return null;
        }

        var lease = new SlotLease(this, id, [.. slots]);
        held[id] = lease;
        return lease;
    }

    private Task<List<int>> TakeSlotsAsync(Guid id, int permitCount, CancellationToken cancellationToken) =>
        database.RunAsync(
            async (connection, token) =>
            {
                await using var command = new NpgsqlCommand(TakeSql, connection) { CommandTimeout = database.CommandTimeoutSeconds };
                command.Parameters.AddWithValue("provider", provider);
                command.Parameters.AddWithValue("limit", permitLimit);
                command.Parameters.AddWithValue("count", (long)permitCount);
                command.Parameters.AddWithValue("holder", identity.Holder);
                command.Parameters.AddWithValue("lease", id);
                command.Parameters.AddWithValue("ttl", options.SlotLease);
                var taken = new List<int>(permitCount);
                await using var reader = await command.ExecuteReaderAsync(token);
                while (await reader.ReadAsync(token))
                {
                    taken.Add(reader.GetInt32(0));
                }

                return taken;
            },
            cancellationToken);

    private async Task SetUpAsync(CancellationToken cancellationToken)
    {
        await setupGate.WaitAsync(cancellationToken);
        try
        {
            var epoch = database.Epoch;
            if (setupEpoch == epoch)
            {
                return;
            }

            var released = await database.RunAsync(
                async (connection, token) =>
                {
                    await using var batch = new NpgsqlBatch(connection) { Timeout = database.CommandTimeoutSeconds };
                    foreach (var sql in SetupSql)
                    {
                        var step = new NpgsqlBatchCommand(sql);
                        step.Parameters.AddWithValue("provider", provider);
                        step.Parameters.AddWithValue("limit", permitLimit);
                        step.Parameters.AddWithValue("instance", identity.Id + "/");
                        step.Parameters.AddWithValue("holder", identity.Holder);
                        batch.BatchCommands.Add(step);
                    }

                    await batch.ExecuteNonQueryAsync(token);
                    return batch.BatchCommands[^1].RecordsAffected;
                },
                cancellationToken);
            if (released > 0)
            {
                Log.PredecessorSlotsReleased(logger, provider, released);
            }

            setupEpoch = epoch;
        }
        finally
        {
            setupGate.Release();
        }
    }

    private async Task<RateLimitLease> FallbackAsync(int permitCount, TimeSpan remaining, CancellationToken cancellationToken)
    {
        var refused = $"all {permitLimit} concurrency permits of provider '{provider}' stayed taken on this instance "
            + "(PostgreSQL unreachable: counting locally)";
        if (remaining <= TimeSpan.Zero)
        {
            var lease = fallback.AttemptAcquire(permitCount);
            return lease.IsAcquired ? lease : new RefusedLease(refused, options.MaxPollInterval);
        }

        using var timeout = new CancellationTokenSource(remaining, time);
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, timeout.Token);
        try
        {
            var lease = await fallback.AcquireAsync(permitCount, linked.Token);
            return lease.IsAcquired ? lease : new RefusedLease(refused, options.MaxPollInterval);
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            return new RefusedLease(refused, options.MaxPollInterval);
        }
    }

    /// <summary>Gives a lease's slots back in the background: disposing a lease never waits on the database.</summary>
    internal void Release(SlotLease lease)
    {
        held.TryRemove(lease.Id, out _);
        Interlocked.Exchange(ref idleSince, time.GetTimestamp());
        var release = ReleaseAsync(lease);
        releasing[release] = true;
        _ = release.ContinueWith(t => releasing.TryRemove(t, out _), CancellationToken.None, TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
    }

    private async Task ReleaseAsync(SlotLease lease)
    {
        await Task.Yield();
        try
        {
            await database.RunAsync(
                async (connection, token) =>
                {
                    await using var command = new NpgsqlCommand(ReleaseSql, connection) { CommandTimeout = database.CommandTimeoutSeconds };
                    command.Parameters.AddWithValue("provider", provider);
                    command.Parameters.AddWithValue("lease", lease.Id);
                    return await command.ExecuteNonQueryAsync(token);
                },
                CancellationToken.None);
        }
        catch (Exception ex) when (DependencyFailures.IsTransientDatabase(ex) || ex is ObjectDisposedException)
        {
            // Not renewed any more, the slots come back when their lease runs out.
            Log.LimitWriteFailed(logger, database.Limit, provider, "release", ex.Message);
        }

        for (var i = 0; i < lease.Slots.Length; i++)
        {
            WakeOne();
        }
    }

    private async Task RenewLoopAsync()
    {
        using var timer = new PeriodicTimer(options.SlotRenewInterval, time);
        try
        {
            while (await timer.WaitForNextTickAsync(stopping.Token))
            {
                var leases = held.Values.ToArray();
                if (leases.Length == 0)
                {
                    continue;
                }

                try
                {
                    var renewed = await database.RunAsync(
                        async (connection, token) =>
                        {
                            await using var command = new NpgsqlCommand(RenewSql, connection) { CommandTimeout = database.CommandTimeoutSeconds };
                            command.Parameters.AddWithValue("provider", provider);
                            command.Parameters.Add(new NpgsqlParameter("leases", NpgsqlDbType.Array | NpgsqlDbType.Uuid) { Value = leases.Select(l => l.Id).ToArray() });
                            command.Parameters.AddWithValue("ttl", options.SlotLease);
                            return await command.ExecuteNonQueryAsync(token);
                        },
                        stopping.Token);
                    var expected = leases.Count(l => held.ContainsKey(l.Id));
                    if (renewed < expected)
                    {
                        Log.SlotsLost(logger, provider, expected - renewed);
                    }
                }
                catch (Exception ex) when (!stopping.IsCancellationRequested && ex is not ObjectDisposedException)
                {
                    // Whatever failed, the loop goes on: were it to stop, every slot held would lapse during its call.
                    Log.LimitWriteFailed(logger, database.Limit, provider, "renewal", ex.Message);
                }
            }
        }
        catch (OperationCanceledException) when (stopping.IsCancellationRequested)
        {
        }
        catch (ObjectDisposedException)
        {
            // The data source went first at shutdown.
        }
    }

    /// <summary>Waits until a slot of this process is given back or <paramref name="pause"/> passes, whichever is first.</summary>
    private async Task WaitForReleaseAsync(TimeSpan pause, CancellationToken cancellationToken)
    {
        // Entries of waits already over leave from the head; without a release here (other instances holding every
        // slot) nothing else would take them out, and each poll adds one.
        while (waiters.TryPeek(out var head) && head.Task.IsCompleted)
        {
            waiters.TryDequeue(out _);
        }

        var wake = new TaskCompletionSource<bool>(TaskCreationOptions.RunContinuationsAsynchronously);
        waiters.Enqueue(wake);
        using var delay = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        await Task.WhenAny(wake.Task, Task.Delay(pause, time, delay.Token));
        // A stale entry must not swallow the next wake-up meant for a live waiter.
        wake.TrySetResult(false);
        await delay.CancelAsync();
        cancellationToken.ThrowIfCancellationRequested();
    }

    /// <summary>Wake-up entries queued (live waits, and at most the last finished one of each).</summary>
    internal int QueuedWakeUps => waiters.Count;

    // One waiter per slot given back: a release does not send every waiter of the process to the database at once.
    private void WakeOne()
    {
        while (waiters.TryDequeue(out var waiter))
        {
            if (waiter.TrySetResult(true))
            {
                return;
            }
        }
    }

    private static TimeSpan Jitter(TimeSpan pause) => pause * (0.5 + Random.Shared.NextDouble());

    private static TimeSpan Min(TimeSpan a, TimeSpan b) => a < b ? a : b;

    protected override void Dispose(bool disposing)
    {
        if (disposing && !stopping.IsCancellationRequested)
        {
            stopping.Cancel();
            fallback.Dispose();
        }

        base.Dispose(disposing);
    }

    protected override async ValueTask DisposeAsyncCore()
    {
        if (!stopping.IsCancellationRequested)
        {
            await stopping.CancelAsync();
            await renewals;
            await Task.WhenAll(releasing.Keys);
            await fallback.DisposeAsync();
        }

        await base.DisposeAsyncCore();
    }
}
