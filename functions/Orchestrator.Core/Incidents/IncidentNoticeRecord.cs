namespace Orchestrator.Core.Incidents;

/// <summary>One notice of the ledger (<c>incident_notices</c>) and how its delivery stands; the content itself is not shown.</summary>
public sealed record IncidentNoticeRecord(
    long Id,
    string Channel,
    string Kind,
    int Sequence,
    string Status,
    int Attempts,
    DateTimeOffset CreatedAt,
    DateTimeOffset? SentAt,
    int? LastStatusCode,
    string? LastError);
