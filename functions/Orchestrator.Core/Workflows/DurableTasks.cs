namespace Orchestrator.Core.Workflows;

/// <summary>Every orchestrator and activity of the product, by the name both hosts register it under.</summary>
public static class DurableTasks
{
    public static readonly IReadOnlyList<(string Name, Type Type)> Orchestrators =
    [
        (WorkflowTaskNames.Orchestrator, typeof(WorkflowOrchestrator)),
    ];

    public static readonly IReadOnlyList<(string Name, Type Type)> Activities =
    [
        (WorkflowTaskNames.RunLlmStep, typeof(RunLlmStepActivity)),
        (WorkflowTaskNames.FinishRun, typeof(FinishRunActivity)),
        (WorkflowTaskNames.RecordStep, typeof(RecordStepActivity)),
    ];
}
