using Microsoft.Azure.Functions.Worker;
using Microsoft.DurableTask;
using Orchestrator.Core.Workflows;

namespace Orchestrator.Functions.Workflows;

/// <summary>The orchestrator and activities, registered under the names the Server uses; the logic lives in Core.</summary>
public sealed class WorkflowTaskFunctions(RunLlmStepActivity runLlmStep, FinishRunActivity finishRun, RecordStepActivity recordStep)
{
    [Function(WorkflowTaskNames.Orchestrator)]
    public static Task<WorkflowRunResult> RunOrchestratorAsync([OrchestrationTrigger] TaskOrchestrationContext context) =>
        new WorkflowOrchestrator().RunAsync(context, context.GetInput<WorkflowRunInput>()!);

    [Function(WorkflowTaskNames.RunLlmStep)]
    public Task<StepResult> RunLlmStepAsync([ActivityTrigger] LlmStepRequest request, CancellationToken cancellationToken) =>
        runLlmStep.ExecuteAsync(request, cancellationToken);

    [Function(WorkflowTaskNames.FinishRun)]
    public Task<bool> FinishRunAsync([ActivityTrigger] FinishRunRequest request, CancellationToken cancellationToken) =>
        finishRun.ExecuteAsync(request, cancellationToken);

    [Function(WorkflowTaskNames.RecordStep)]
    public Task<RecordStepResult> RecordStepAsync([ActivityTrigger] RecordStepRequest request, CancellationToken cancellationToken) =>
        recordStep.ExecuteAsync(request, cancellationToken);
}
