namespace Orchestrator.Core.Incidents.Notices;

/// <summary>What one delivery attempt came to: the metric's <c>outcome</c> label and the ledger's next state.</summary>
public enum NoticeOutcome
{
    /// <summary>The receiver took it: <c>sent</c>.</summary>
    Sent,

    /// <summary>Try again later (429, 5xx, timeout, connection failure): stays <c>pending</c>, after a back-off.</summary>
    Retried,

    /// <summary>The receiver refused it for good (400, 403, 404, 410 …): <c>rejected</c>, never retried.</summary>
    Rejected,
}
