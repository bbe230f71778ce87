using System.Collections.Concurrent;
using System.ComponentModel.DataAnnotations;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using Npgsql;
using Orchestrator.Core.Hosting;
using Orchestrator.Core.Llm.Breakers;
using Polly.CircuitBreaker;

namespace Orchestrator.Core.Llm;

/// <summary>
/// The LLM circuit breakers of this process by name, each a view of its cluster-wide state in PostgreSQL (for the
/// gateway's pipelines, <c>/metrics</c>, <c>/health</c> and <c>/admin/circuit-breaker/reset</c>), kept in step by
/// <see cref="SyncAsync"/>. Without a store, or while PostgreSQL does not answer, every breaker runs on this
/// instance's own counts.
/// </summary>
public sealed class CircuitBreakerRegistry
{
    private readonly ConcurrentDictionary<string, SharedCircuitBreaker> breakers = new(StringComparer.Ordinal);
    private readonly Lock modeGate = new();
    private readonly InstanceIdentity identity;
    private readonly SharedBreakerOptions options;
    private readonly TimeProvider time;
    private volatile bool shared;
    private long clockOffsetTicks;
    private long probes;

    // How many breakers the last successful sync listed in PostgreSQL (-1: list them again), and the ticks so far.
    private int registered = -1;
    private long ticks;

    /// <summary>Samples no longer counted are deleted every so many sync ticks (about a minute), not on every one.</summary>
    private const int PruneEveryTicks = 60;

    /// <summary>A registry of breakers local to this process (no PostgreSQL), as in unit tests.</summary>
    public CircuitBreakerRegistry()
        : this(null, new InstanceIdentity("local"), Options.Create(new SharedBreakerOptions()), TimeProvider.System, NullLogger<CircuitBreakerRegistry>.Instance)
    {
    }

    public CircuitBreakerRegistry(
        CircuitBreakerStore? store, InstanceIdentity identity, IOptions<SharedBreakerOptions> options, TimeProvider time, ILogger<CircuitBreakerRegistry> logger)
    {
        Store = store;
        this.identity = identity;
        this.options = options.Value;
        this.time = time;
        Logger = logger;
        shared = store is not null;
    }

    /// <summary>Adds the breaker <paramref name="name"/> (or returns the one already added under that name).</summary>
    public SharedCircuitBreaker Register(string name, CircuitBreakerSettings settings)
    {
        Validator.ValidateObject(settings, new ValidationContext(settings), validateAllProperties: true);
        return breakers.GetOrAdd(name, n => new SharedCircuitBreaker(n, settings, this));
    }

    public IEnumerable<string> Names => breakers.Keys.Order(StringComparer.Ordinal);

    public SharedCircuitBreaker? Find(string name) => breakers.GetValueOrDefault(name);

    /// <summary>
    /// Every breaker's state, cluster-wide as this instance last read it (its own while PostgreSQL does not answer):
    /// 0 closed, 1 open, 2 half-open — the metric's encoding.
    /// </summary>
    public IReadOnlyList<(string Name, CircuitState State)> States() =>
        breakers.OrderBy(b => b.Key, StringComparer.Ordinal).Select(b => (b.Key, b.Value.State)).ToList();

    public static int MetricValue(CircuitState state) => state switch
    {
        CircuitState.Closed => 0,
        CircuitState.HalfOpen => 2,
        _ => 1,
    };

    /// <summary>Whether the breakers follow the shared state now (false without a store, or while PostgreSQL does not answer).</summary>
    public bool IsShared => shared;

    /// <summary>How often <see cref="SyncAsync"/> runs: every instance sees a change within about this long.</summary>
    public TimeSpan SyncInterval => options.SyncInterval;

    /// <summary>
    /// Takes in at once the rows a reset through this instance has just written, so this instance does not wait for
    /// its next sync (and logs the reset where a breaker was open, as every instance does).
    /// </summary>
    internal void ApplyReset(IReadOnlyList<BreakerRow> rows)
    {
        foreach (var row in rows)
        {
            Find(row.Name)?.Apply(row, counts: false);
        }
    }

    /// <summary>
    /// One sync tick, one round trip for all breakers (a second only to open one): writes this instance's sample
    /// deltas, reads every breaker's shared state and sample sums, logs the resets that closed a breaker open here,
    /// and opens a breaker whose cluster-wide failure ratio trips it. False when PostgreSQL did not answer (the
    /// breakers then run on local counts until a tick succeeds).
    /// </summary>
    public async Task<bool> SyncAsync(CancellationToken cancellationToken)
    {
        if (Store is null)
        {
            return false;
        }

        var list = breakers.Values.OrderBy(b => b.Name, StringComparer.Ordinal).ToList();
        var deltas = list.Select(b => b.TakePending()).ToList();
        var register = registered != list.Count;
        var prune = ticks++ % PruneEveryTicks == 0;
        IReadOnlyList<BreakerRow> rows;
        try
        {
            rows = await Store.SyncAsync(identity.Holder, deltas, register, prune, cancellationToken);
        }
        catch (Exception ex) when (IsStoreFailure(ex) && !cancellationToken.IsCancellationRequested)
        {
            for (var i = 0; i < list.Count; i++)
            {
                list[i].RestorePending(deltas[i]);
            }

            registered = -1;
            Degrade(ex);
            return false;
        }

        registered = list.Count;

        foreach (var row in rows)
        {
            Find(row.Name)?.Apply(row, counts: true);
        }

        lock (modeGate)
        {
            if (!shared)
            {
                shared = true;
                Log.BreakersShared(Logger);
            }
        }

        foreach (var breaker in list)
        {
            await breaker.EvaluateAsync();
        }

        return true;
    }

    internal CircuitBreakerStore? Store { get; }

    internal ILogger Logger { get; }

    internal string Holder => identity.Holder;

    internal TimeSpan ProbeLease => options.EffectiveProbeLease;

    internal DateTimeOffset LocalNow => time.GetUtcNow();

    /// <summary>The database clock as last observed (open-until and lease times are on it).</summary>
    internal DateTimeOffset DatabaseNow => time.GetUtcNow() + TimeSpan.FromTicks(Interlocked.Read(ref clockOffsetTicks));

    internal void ObserveDatabaseClock(DateTimeOffset databaseNow) =>
        Interlocked.Exchange(ref clockOffsetTicks, (databaseNow - time.GetUtcNow()).Ticks);

    /// <summary>A probe claim unique in the cluster: this process's holder id and a counter.</summary>
    internal string NextProbeToken() => $"{identity.Holder}#{Interlocked.Increment(ref probes)}";

    /// <summary>PostgreSQL did not answer: every breaker runs on local counts until a sync tick succeeds.</summary>
    internal void Degrade(Exception ex)
    {
        lock (modeGate)
        {
            if (!shared)
            {
                return;
            }

            shared = false;
        }

        Log.BreakersLocal(Logger, ex.Message);
        var offset = TimeSpan.FromTicks(Interlocked.Read(ref clockOffsetTicks));
        foreach (var breaker in breakers.Values)
        {
            breaker.EnterFallback(offset);
        }
    }

    /// <summary>
    /// Whether a failure of the shared state sends the breakers to their local fallback: any but the caller's own
    /// cancellation (the store bounds every round trip, so a database that stops answering ends as a timeout). A call
    /// is never failed for want of the shared state.
    /// </summary>
    internal static bool IsStoreFailure(Exception ex) => ex is not OperationCanceledException;
}
