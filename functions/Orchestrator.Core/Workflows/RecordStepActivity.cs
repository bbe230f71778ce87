using Microsoft.DurableTask;
using Microsoft.Extensions.Logging;
using Orchestrator.Core.Persistence;
using Orchestrator.Core.Resilience;

namespace Orchestrator.Core.Workflows;

/// <summary>Records a step that calls no LLM; idempotent, and keeps a finished result (see <see cref="WorkflowStore.RecordStepAsync"/>).</summary>
public sealed class RecordStepActivity(WorkflowStore store, DatabaseRetry database, ILogger<RecordStepActivity> logger) : TaskActivity<RecordStepRequest, RecordStepResult>
{
    public override Task<RecordStepResult> RunAsync(TaskActivityContext context, RecordStepRequest input) => ExecuteAsync(input, CancellationToken.None);

    public async Task<RecordStepResult> ExecuteAsync(RecordStepRequest input, CancellationToken cancellationToken)
    {
        using var scope = StepDiagnostics.Step(logger, input.RunId, input.StepId, input.Iteration);
        return await database.ExecuteAsync("recording a step", token => store.RecordStepAsync(input, token), cancellationToken);
    }
}
