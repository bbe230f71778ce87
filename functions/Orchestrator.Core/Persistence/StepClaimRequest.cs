namespace Orchestrator.Core.Persistence;

/// <summary>
/// What one execution of a step asks for when it claims the step: a lease for <see cref="Holder"/> lasting
/// <see cref="LeaseDuration"/> (database clock), and a reservation of the most its call may spend against the run's
/// budget limits (null: no limit).
/// </summary>
public sealed record StepClaimRequest(
    string RunId,
    string StepId,
    int Iteration,
    string StepType,
    string Holder,
    TimeSpan LeaseDuration,
    string? RestoreEpoch = null,
    long ReservedTokens = 0,
    decimal ReservedCostUsd = 0m,
    long? MaxTokens = null,
    decimal? MaxCostUsd = null);
