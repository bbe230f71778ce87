namespace Orchestrator.Core.Incidents;

/// <summary>One state change of an incident (<c>incident_events</c>): opened, updated, escalated, acknowledged, resolved, with who.</summary>
public sealed record IncidentEventRecord(long Id, DateTimeOffset At, string Kind, string Actor, string? DetailJson);
