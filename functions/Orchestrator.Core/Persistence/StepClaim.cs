namespace Orchestrator.Core.Persistence;

/// <summary>The outcome of claiming a step before running it.</summary>
public sealed record StepClaim(StepClaimKind Kind, WorkflowStepRecord? Completed, string? RunStatus);
