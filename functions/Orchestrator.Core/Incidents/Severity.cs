namespace Orchestrator.Core.Incidents;

/// <summary>The runbook's incident classification: P0 critical (15 min response) to P3 low (4 h response).</summary>
public enum Severity
{
    P0,
    P1,
    P2,
    P3,
}

/// <summary>An incident's life: open until someone acknowledges it, resolved when its condition has stayed clear (or by hand).</summary>
public static class IncidentStatus
{
    public const string Open = "open";
    public const string Acknowledged = "acknowledged";
    public const string Resolved = "resolved";
}

/// <summary>The runbook's message templates: INCIDENT DETECTED, UPDATE, ESCALATING to L2, INCIDENT RESOLVED.</summary>
public static class NoticeKind
{
    public const string Detected = "detected";
    public const string Update = "update";
    public const string Escalation = "escalation";
    public const string Resolved = "resolved";
}

/// <summary>Where notices go; the values are the <c>channel</c> column of <c>incident_notices</c> and the metric label.</summary>
public static class NoticeChannel
{
    public const string Slack = "slack";
    public const string Teams = "teams";
    public const string PagerDuty = "pagerduty";
    public const string Webhook = "webhook";
}
