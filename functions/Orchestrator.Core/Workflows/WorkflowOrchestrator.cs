using Microsoft.DurableTask;
using Orchestrator.Core.Definitions;

namespace Orchestrator.Core.Workflows;

/// <summary>
/// The durable orchestration of one run: interprets the definition copied into its input. Everything it does is
/// deterministic (templates render from orchestration state and the orchestration clock), so replays agree.
/// </summary>
public sealed class WorkflowOrchestrator : TaskOrchestrator<WorkflowRunInput, WorkflowRunResult>
{
    public override Task<WorkflowRunResult> RunAsync(TaskOrchestrationContext context, WorkflowRunInput input) =>
        new WorkflowInterpreter(context, DefinitionJson.Deserialize(input.DefinitionJson), input).RunAsync();
}
