using Microsoft.DurableTask;
using Microsoft.Extensions.Logging;
using Orchestrator.Core.Persistence;
using Orchestrator.Core.Resilience;

namespace Orchestrator.Core.Workflows;

/// <summary>Records a run's terminal state in <c>workflow_states</c> (never overwriting a cancel).</summary>
public sealed class FinishRunActivity(WorkflowStore store, DatabaseRetry database, ILogger<FinishRunActivity> logger) : TaskActivity<FinishRunRequest, bool>
{
    public override Task<bool> RunAsync(TaskActivityContext context, FinishRunRequest input) => ExecuteAsync(input, CancellationToken.None);

    public async Task<bool> ExecuteAsync(FinishRunRequest input, CancellationToken cancellationToken)
    {
        using var scope = StepDiagnostics.Run(logger, input.RunId);
        var changed = await database.ExecuteAsync(
            "recording a run's end", token => store.FinishRunAsync(input.RunId, input.Status, input.OutputJson, input.Error, token, new RestoreFence(input.RestoreEpoch)), cancellationToken);
        Log.RunFinished(logger, input.RunId, input.Status, changed);
        return changed;
    }
}
