namespace Orchestrator.Core.Workflows;

/// <summary>The orchestration input: the exact definition the run executes (copied at start) and the user's input.</summary>
public sealed record WorkflowRunInput(string RunId, string DefinitionJson, string InputJson, string? RetryOf);
