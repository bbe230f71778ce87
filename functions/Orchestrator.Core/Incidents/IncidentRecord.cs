namespace Orchestrator.Core.Incidents;

/// <summary>One row of <c>incidents</c> as the API shows it; <see cref="FactsJson"/> is the check's measurements as stored.</summary>
public sealed record IncidentRecord(
    Guid Id,
    string DedupKey,
    string CheckName,
    string Severity,
    string Status,
    string Title,
    string Impact,
    string Summary,
    string NextStep,
    string FactsJson,
    int RtoSeconds,
    DateTimeOffset StartedAt,
    DateTimeOffset OpenedAt,
    DateTimeOffset LastSeenAt,
    DateTimeOffset LastNoticeAt,
    int UpdatesSent,
    DateTimeOffset? EscalatedAt,
    DateTimeOffset? AcknowledgedAt,
    string? AcknowledgedBy,
    DateTimeOffset? ResolvedAt,
    string? ResolvedBy,
    string? Resolution);
