namespace Orchestrator.Core.Workflows;

/// <summary>The names the orchestrator and activities are registered under, in both hosts.</summary>
public static class WorkflowTaskNames
{
    public const string Orchestrator = "WorkflowOrchestrator";
    public const string RunLlmStep = "RunLlmStep";
    public const string FinishRun = "FinishRun";
    public const string RecordStep = "RecordStep";
}
