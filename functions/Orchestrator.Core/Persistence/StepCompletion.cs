namespace Orchestrator.Core.Persistence;

/// <summary>The result of one step, as recorded in <c>workflow_steps</c>.</summary>
public sealed record StepCompletion(
    string RunId,
    string StepId,
    int Iteration,
    string Status,
    string? Output,
    int TokensIn,
    int TokensOut,
    decimal CostUsd,
    string? Provider,
    string? Model,
    int? LatencyMs)
{
    /// <summary>The providers of the chain skipped before the one that served the step, as JSON; null when the first served it.</summary>
    public string? SkippedProvidersJson { get; init; }
}
