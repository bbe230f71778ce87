using Microsoft.DurableTask;
using Orchestrator.Core.Persistence;

namespace Orchestrator.Core.Workflows;

/// <summary>Records a step that calls no LLM; idempotent, and keeps a finished result (see <see cref="WorkflowStore.RecordStepAsync"/>).</summary>
public sealed class RecordStepActivity(WorkflowStore store) : TaskActivity<RecordStepRequest, RecordStepResult>
{
    public override Task<RecordStepResult> RunAsync(TaskActivityContext context, RecordStepRequest input) => ExecuteAsync(input, CancellationToken.None);

    public Task<RecordStepResult> ExecuteAsync(RecordStepRequest input, CancellationToken cancellationToken) => store.RecordStepAsync(input, cancellationToken);
}
