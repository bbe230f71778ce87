namespace Orchestrator.Core.Persistence;

/// <summary>Whether the step may run.</summary>
public enum StepClaimKind
{
    /// <summary>The step is ours to run (first attempt or a retry).</summary>
    Claimed,

    /// <summary>A completed result exists (an earlier attempt, or reused by a retry run): return it, call nothing.</summary>
    AlreadyCompleted,

    /// <summary>The run was cancelled or has finished: do not spend anything on it.</summary>
    RunFinished,
}
