namespace Orchestrator.Core.Incidents;

/// <summary>
/// One notice as the ledger stores it (<c>incident_notices.content</c>), channel-neutral: the runbook template already
/// rendered as <see cref="Text"/>, and the fields each channel lays out in its own format (Slack blocks, an Adaptive
/// Card, a PagerDuty event, the webhook's JSON).
/// </summary>
/// <param name="IncidentId">Also PagerDuty's <c>dedup_key</c>.</param>
/// <param name="Kind">A <see cref="NoticeKind"/> value.</param>
/// <param name="Sequence">The update's number (1, 2, …); 0 for the other kinds.</param>
/// <param name="Headline">The template's first line, e.g. <c>🚨 INCIDENT DETECTED 🚨</c> or <c>📊 UPDATE (15 min)</c>.</param>
/// <param name="Text">The whole rendered runbook template (plain text, one field per line).</param>
/// <param name="Status">Current status in words (<c>Open</c>, <c>Acknowledged by …</c>, <c>Resolved</c>).</param>
/// <param name="Eta">When the engineer can expect the next word (the next update, or the RTO), in words.</param>
/// <param name="Duration">How long the incident has lasted at this notice.</param>
/// <param name="RootCause">Where known (the check's diagnosis), else null.</param>
/// <param name="FollowUp">The runbook's follow-up lines (resolved notices), else empty.</param>
/// <param name="Facts">What the check measured (lag, pool use, run ids …), in display order.</param>
public sealed record NoticeContent(
    Guid IncidentId,
    string Kind,
    int Sequence,
    string CheckName,
    string DedupKey,
    string Severity,
    string Title,
    string Headline,
    string Text,
    string Impact,
    DateTimeOffset StartedAt,
    DateTimeOffset At,
    string Status,
    string NextStep,
    string? Eta,
    TimeSpan Duration,
    string? RootCause,
    IReadOnlyList<string> FollowUp,
    IReadOnlyList<KeyValuePair<string, string>> Facts);
