namespace Orchestrator.Core.Incidents.Notices;

/// <summary>The outcome of one delivery attempt: the status code (none when no answer came), the receiver's message, and its <c>Retry-After</c>.</summary>
public sealed record NoticeAttempt(NoticeOutcome Outcome, int? StatusCode, string? Error, TimeSpan? RetryAfter = null)
{
    /// <summary>The metric label of <see cref="Outcome"/>.</summary>
    public string Label => Outcome switch
    {
        NoticeOutcome.Sent => "sent",
        NoticeOutcome.Retried => "retried",
        _ => "rejected",
    };
}
