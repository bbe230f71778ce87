using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Orchestrator.Core.Operations;

/// <summary>
/// This instance's view of the cluster-wide admin state in PostgreSQL: maintenance mode. Refreshed every
/// <see cref="OperationsOptions.RefreshInterval"/>, and at once on the instance that made the change; until PostgreSQL
/// answers, the last known state stands. (Breakers, resets included, are kept in step by
/// <see cref="Llm.CircuitBreakerRegistry.SyncAsync"/>.)
/// </summary>
public sealed class ClusterState(
    OperationsStore store,
    IOptions<OperationsOptions> options,
    ILogger<ClusterState> logger) : BackgroundService
{
    private readonly SemaphoreSlim refreshing = new(1, 1);
    private volatile MaintenanceState maintenance = MaintenanceState.Off;
    private bool failing;

    public MaintenanceState Maintenance => maintenance;

    /// <summary>The <c>Retry-After</c> of a start that maintenance mode refuses.</summary>
    public TimeSpan MaintenanceRetryAfter => options.Value.MaintenanceRetryAfter;

    /// <summary>Records a change made through this instance, so it is obeyed here without waiting for the next refresh.</summary>
    public void Apply(MaintenanceState state) => maintenance = state;

    /// <summary>Reads the state once.</summary>
    public async Task RefreshAsync(CancellationToken cancellationToken)
    {
        await refreshing.WaitAsync(cancellationToken);
        try
        {
            maintenance = await store.GetMaintenanceAsync(cancellationToken);
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
