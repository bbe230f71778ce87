namespace Orchestrator.Core.Persistence;

/// <summary>A row of <c>workflow_steps</c>: one execution of one step (or one map item).</summary>
public sealed record WorkflowStepRecord(
    string RunId,
    string StepId,
    int Iteration,
    int Attempt,
    string StepType,
    string Status,
    string? Output,
    int TokensIn,
    int TokensOut,
    decimal CostUsd,
    string? Provider,
    string? Model,
    int? LatencyMs,
    DateTimeOffset? StartedAt,
    DateTimeOffset? CompletedAt,
    string? Error,
    string? ReusedFrom,
    string? WaitEvent = null,
    DateTimeOffset? WaitUntil = null,
    string? SkippedProvidersJson = null);
