namespace Orchestrator.Core.Workflows;

/// <summary>The orchestration output: the run's final status and output.</summary>
public sealed record WorkflowRunResult(string RunId, string Status, string? OutputJson);
