using Microsoft.DurableTask.Client;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Orchestrator.Core.Reconciliation;

/// <summary>Runs the reconciler every <see cref="ReconcilerOptions.Interval"/> in a long-running host (the Server).</summary>
public sealed class ReconcilerService(
    RunReconciler reconciler, DurableTaskClient client, IOptions<ReconcilerOptions> options, TimeProvider time, ILogger<ReconcilerService> logger)
    : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        if (!options.Value.Enabled)
        {
            return;
        }

        using var timer = new PeriodicTimer(options.Value.Interval, time);
        do
        {
            try
            {
                var report = await reconciler.ReconcileAsync(client, stoppingToken);
                if (report.Resumed + report.Repaired > 0)
                {
                    Log.ReconcilePass(logger, report.Checked, report.Resumed, report.Repaired);
                }
            }
            catch (Exception ex) when (ex is not OperationCanceledException || !stoppingToken.IsCancellationRequested)
            {
                // A dependency outage: the next pass tries again.
                Log.ReconcileFailed(logger, ex.GetType().Name, ex.Message);
            }
        }
        while (await timer.WaitForNextTickAsync(stoppingToken));
    }
}
