namespace Orchestrator.Core.Workflows;

/// <summary>Input of the activity that records a run's terminal state.</summary>
public sealed record FinishRunRequest(string RunId, string Status, string? OutputJson, string? Error, string? RestoreEpoch = null);
