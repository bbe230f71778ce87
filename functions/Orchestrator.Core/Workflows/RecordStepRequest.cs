namespace Orchestrator.Core.Workflows;

/// <summary>Input of the activity that records a step that calls no LLM (transform, approval, map, skipped).</summary>
public sealed record RecordStepRequest(
    string RunId,
    string StepId,
    int Iteration,
    string StepType,
    string Status,
    string? OutputJson,
    string? Error,
    string? WaitEvent = null,
    DateTime? WaitUntil = null,
    string? RestoreEpoch = null);
