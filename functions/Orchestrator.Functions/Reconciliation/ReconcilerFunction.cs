using Microsoft.Azure.Functions.Worker;
using Microsoft.DurableTask.Client;
using Microsoft.Extensions.Options;
using Orchestrator.Core.Reconciliation;

namespace Orchestrator.Functions.Reconciliation;

/// <summary>The reconciler on the Functions host's timer (<c>Reconciler__Schedule</c>, NCRONTAB); the logic lives in Core.</summary>
public sealed class ReconcilerFunction(RunReconciler reconciler, IOptions<ReconcilerOptions> options)
{
    [Function("Reconciler")]
    public async Task RunAsync([TimerTrigger("%Reconciler__Schedule%")] TimerInfo timer, [DurableClient] DurableTaskClient client, CancellationToken cancellationToken)
    {
        if (options.Value.Enabled)
        {
            await reconciler.ReconcileAsync(client, cancellationToken);
        }
    }
}
