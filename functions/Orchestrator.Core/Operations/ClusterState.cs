using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Orchestrator.Core.Llm;

namespace Orchestrator.Core.Operations;

/// <summary>
/// This instance's view of the cluster-wide admin state in PostgreSQL: maintenance mode, and breaker resets asked
/// for through any instance. Refreshed every <see cref="OperationsOptions.RefreshInterval"/>, and at once on the
/// instance that made the change; until PostgreSQL answers, the last known state stands.
/// </summary>
public sealed class ClusterState(
    OperationsStore store,
    CircuitBreakerRegistry breakers,
    IOptions<OperationsOptions> options,
    ILogger<ClusterState> logger) : BackgroundService
{
    private readonly Dictionary<string, long> appliedResets = new(StringComparer.Ordinal);
    private readonly SemaphoreSlim refreshing = new(1, 1);
    private volatile MaintenanceState maintenance = MaintenanceState.Off;
    private bool failing;

    public MaintenanceState Maintenance => maintenance;

    /// <summary>The <c>Retry-After</c> of a start that maintenance mode refuses.</summary>
    public TimeSpan MaintenanceRetryAfter => options.Value.MaintenanceRetryAfter;

    /// <summary>How long another instance may take to obey a change.</summary>
    public TimeSpan RefreshInterval => options.Value.RefreshInterval;

    /// <summary>Records a change made through this instance, so it is obeyed here without waiting for the next refresh.</summary>
    public void Apply(MaintenanceState state) => maintenance = state;

    /// <summary>Records breakers this instance has just closed itself at <paramref name="generations"/>.</summary>
    public async Task MarkResetAsync(IReadOnlyDictionary<string, long> generations, CancellationToken cancellationToken)
    {
        await refreshing.WaitAsync(cancellationToken);
        try
        {
            foreach (var (name, generation) in generations)
            {
                appliedResets[name] = Math.Max(generation, appliedResets.GetValueOrDefault(name));
            }
        }
        finally
        {
            refreshing.Release();
        }
    }

    /// <summary>Reads the state once: maintenance mode, and closes every local breaker whose reset generation moved.</summary>
    public async Task RefreshAsync(CancellationToken cancellationToken)
    {
        await refreshing.WaitAsync(cancellationToken);
        try
        {
            var added = breakers.Names.Where(n => !appliedResets.ContainsKey(n)).ToList();
            var generations = await store.GetBreakerGenerationsAsync(cancellationToken);
            if (added.Count > 0)
            {
                await store.RegisterBreakersAsync(added, cancellationToken);
                // Resets asked for before a breaker existed here do not apply to it: it starts closed.
                foreach (var name in added)
                {
                    appliedResets[name] = generations.GetValueOrDefault(name);
                }
            }

            maintenance = await store.GetMaintenanceAsync(cancellationToken);
            foreach (var (name, generation) in generations)
            {
                if (appliedResets.TryGetValue(name, out var applied) && applied >= generation)
                {
                    continue;
                }

                appliedResets[name] = generation;
                if (await breakers.CloseAsync(name, cancellationToken))
                {
                    Log.BreakerReset(logger, name, generation);
                }
            }

            if (failing)
            {
                failing = false;
                Log.ClusterStateRecovered(logger);
            }
        }
        finally
        {
            refreshing.Release();
        }
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(options.Value.RefreshInterval);
        do
        {
            try
            {
                await RefreshAsync(stoppingToken);
            }
            catch (Exception ex) when (ex is Npgsql.NpgsqlException or TimeoutException or InvalidOperationException && !stoppingToken.IsCancellationRequested)
            {
                if (!failing)
                {
                    failing = true;
                    Log.ClusterStateUnavailable(logger, ex.Message);
                }
            }
        }
        while (await timer.WaitForNextTickAsync(stoppingToken));
    }

    public override void Dispose()
    {
        refreshing.Dispose();
        base.Dispose();
    }
}
