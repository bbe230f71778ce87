namespace Orchestrator.Core.Workflows;

/// <summary>The kinds of outcome of a start, retry or cancel request.</summary>
public enum RunOutcomeKind
{
    /// <summary>The run was started (or, for a cancel, cancelled).</summary>
    Accepted,

    /// <summary>An idempotency key (or an earlier retry) already started this run.</summary>
    AlreadyExists,
    Invalid,
    NotFound,
    Conflict,
    Unavailable,
}
