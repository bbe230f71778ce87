namespace Orchestrator.Core.Incidents;

/// <summary>An incident with its whole timeline: every state change and every notice, each in the order it was written.</summary>
public sealed record IncidentDetail(IncidentRecord Incident, IReadOnlyList<IncidentEventRecord> Events, IReadOnlyList<IncidentNoticeRecord> Notices);
