using Orchestrator.Core.Monitoring;

namespace Orchestrator.Core.Incidents;

/// <summary>
/// Turns check readings into incidents and notices: damping (a condition must hold for a while before an incident
/// opens and stay clear before it resolves), one unresolved incident per dedup key, updates every 15 minutes while
/// P0/P1, escalation at 80 % of the RTO, resolution with its duration. Every change and the notices it calls for are
/// written in one transaction, so the ledger is the single record of what must be sent.
/// </summary>
public sealed partial class IncidentEngine
{
    /// <summary>Applies one run of <paramref name="check"/>: its readings, then the time-driven updates and escalations of its open incidents.</summary>
    public Task ApplyAsync(IMonitorCheck check, IReadOnlyList<ConditionReading> readings, CancellationToken cancellationToken) =>
        throw new NotImplementedException();

    /// <summary>Marks an unresolved incident acknowledged by <paramref name="actor"/>; false when it is unknown, true when it was already.</summary>
    public Task<IncidentChange> AcknowledgeAsync(Guid id, string actor, CancellationToken cancellationToken) =>
        throw new NotImplementedException();

    /// <summary>Resolves an incident by hand (a RESOLVED notice says who); the condition's episode starts over.</summary>
    public Task<IncidentChange> ResolveAsync(Guid id, string actor, string? resolution, CancellationToken cancellationToken) =>
        throw new NotImplementedException();
}

/// <summary>The outcome of an acknowledge or resolve by hand.</summary>
public enum IncidentChange
{
    NotFound,
    Changed,
    AlreadyDone,
}
