using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Orchestrator.Core.Hosting;
using Orchestrator.Core.Resilience;

namespace Orchestrator.Core.Persistence;

/// <summary>
/// At start, lets the step leases of this instance's earlier processes lapse (a crash or kill left them live), so the
/// restarted instance takes its own interrupted steps back at once instead of one lease later. Runs after the
/// migrations (hosted services start in order) and never holds up the start: the database may be down right now.
/// </summary>
public sealed class PredecessorLeaseRelease(
    WorkflowStore store, InstanceIdentity identity, DatabaseRetry database, IOptions<ResilienceOptions> options, TimeProvider time,
    ILogger<PredecessorLeaseRelease> logger) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        // Worth trying for one lease at most: by then every predecessor's lease has lapsed by itself.
        var leaseDuration = options.Value.StepLeaseDuration;
        using var window = new CancellationTokenSource(leaseDuration, time);
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(stoppingToken, window.Token);
        try
        {
            await Task.Yield();
            var released = await database.ExecuteAsync(
                "releasing the step leases of earlier processes", token => store.ReleasePredecessorLeasesAsync(identity.Id, identity.Holder, token), linked.Token);
            if (released > 0)
            {
                Log.PredecessorLeasesReleased(logger, released, identity.Id);
            }
        }
        catch (Exception ex) when (ex is not OperationCanceledException || !stoppingToken.IsCancellationRequested)
        {
            Log.PredecessorLeasesNotReleased(logger, identity.Id, ex.Message, leaseDuration);
        }
    }
}
