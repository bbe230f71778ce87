namespace Orchestrator.Core.Workflows;

/// <summary>The kinds of start outcome.</summary>
public enum StartOutcomeKind
{
    Started,
    AlreadyExists,
    Invalid,
    NotFound,
    Conflict,
    Unavailable,
}
