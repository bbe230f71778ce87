namespace Orchestrator.Core.Incidents;

/// <summary>
/// What an incident cost the workflows, over its window (<see cref="From"/>, when the condition started, to
/// <see cref="To"/>, its resolution or now): runs that failed in it and runs that were in flight during it.
/// </summary>
public sealed record IncidentImpact(DateTimeOffset From, DateTimeOffset To, long RunsFailed, long RunsInFlight);
