namespace Orchestrator.Core.Persistence;

/// <summary>
/// The outcome of claiming a step before running it: the completed result, the run's status when it is over, the
/// other execution's holder when the step is <see cref="StepClaimKind.HeldElsewhere"/>, and the budget's standing when
/// the budget refused the call.
/// </summary>
public sealed record StepClaim(StepClaimKind Kind, WorkflowStepRecord? Completed, string? RunStatus, string? Holder = null, BudgetStanding? Budget = null);
