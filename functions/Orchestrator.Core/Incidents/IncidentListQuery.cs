namespace Orchestrator.Core.Incidents;

/// <summary>One page of the incident list: null filters match everything; <paramref name="Statuses"/> are stored statuses.</summary>
public sealed record IncidentListQuery(IReadOnlyList<string>? Severities, IReadOnlyList<string>? Statuses, IncidentListCursor? After, int Limit);
