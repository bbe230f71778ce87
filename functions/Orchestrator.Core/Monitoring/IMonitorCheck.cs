namespace Orchestrator.Core.Monitoring;

/// <summary>
/// One of the timer-triggered checks. <see cref="Name"/> is its configuration section under <c>Monitors</c>
/// (<c>Monitors:ReplicaLag</c>), its advisory lock on the Server and its Functions timer. Evaluating only looks and
/// reports; what becomes an incident is the <see cref="Incidents.IncidentEngine"/>'s business.
/// </summary>
public interface IMonitorCheck
{
    /// <summary>The section name under <c>Monitors</c>, e.g. <c>ReplicaLag</c>.</summary>
    string Name { get; }

    /// <summary>Its schedule, damping, severity and RTO.</summary>
    MonitorCheckOptions Options { get; }

    /// <summary>
    /// One reading per condition this check owns. Throws only for a bug; a dependency that does not answer is either
    /// the finding (the primary check) or a missing reading (the condition's state is kept).
    /// </summary>
    Task<IReadOnlyList<ConditionReading>> EvaluateAsync(CancellationToken cancellationToken);

    /// <summary>
    /// Whether this check watches PostgreSQL itself, so its incident must be told even when nothing can be recorded
    /// (the runner holds it and sends its notice directly; the Server keeps running it on the instance that held its
    /// lock when the database went away).
    /// </summary>
    bool WatchesTheDatabase => false;
}
