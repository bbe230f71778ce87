namespace Orchestrator.Core.Persistence;

/// <summary>Whether the step may run.</summary>
public enum StepClaimKind
{
    /// <summary>The step is ours to run (first attempt, a retry, or a lapsed lease taken over).</summary>
    Claimed,

    /// <summary>A completed result exists (an earlier attempt, or reused by a retry run): return it, call nothing.</summary>
    AlreadyCompleted,

    /// <summary>The run was cancelled or has finished: do not spend anything on it.</summary>
    RunFinished,

    /// <summary>Another execution holds a live lease on the step: wait for its result, call nothing. Nothing changed.</summary>
    HeldElsewhere,

    /// <summary>The run's budget does not fit this call while other calls' reservations are outstanding: wait for them to settle. Nothing changed.</summary>
    BudgetPending,

    /// <summary>The run's budget cannot fit this call, and no reservation of another call may still free some. Nothing changed.</summary>
    BudgetExhausted,
}
