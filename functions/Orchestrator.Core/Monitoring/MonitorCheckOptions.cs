using System.ComponentModel.DataAnnotations;
using NCrontab;
using Orchestrator.Core.Incidents;

namespace Orchestrator.Core.Monitoring;

/// <summary>
/// What every check has (<c>Monitors:&lt;Check&gt;:*</c>): its NCRONTAB schedule (six fields, seconds first, as the
/// Functions timer trigger reads it), the damping that keeps a flapping condition to one incident, its severity and
/// the RTO of the runbook's scenario it belongs to (escalation comes at <see cref="MonitorsOptions.EscalateAt"/> of it).
/// </summary>
public class MonitorCheckOptions
{
    public bool Enabled { get; set; } = true;

    /// <summary>NCRONTAB with seconds: <c>*/15 * * * * *</c> is every 15 s.</summary>
    [Required]
    public string Schedule { get; set; } = "*/15 * * * * *";

    /// <summary>How long the condition must hold (counting from its first firing reading) before an incident opens (Prometheus' <c>for:</c>).</summary>
    [Range(typeof(TimeSpan), "00:00:00", "1.00:00:00")]
    public TimeSpan For { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>
    /// How long the condition must stay clear before its episode ends (Prometheus' <c>keep_firing_for:</c>): an open
    /// incident resolves, and a pending one starts over. A firing reading within it keeps the episode going, so a
    /// condition that flaps faster than this makes one incident.
    /// </summary>
    [Range(typeof(TimeSpan), "00:00:00", "1.00:00:00")]
    public TimeSpan ClearFor { get; set; } = TimeSpan.FromMinutes(2);

    /// <summary>And for at least this many checks in a row.</summary>
    [Range(1, 1000)]
    public int ClearChecks { get; set; } = 3;

    /// <summary>The runbook's classification of the check's condition (a check may raise one reading above it, as the pool's timeouts).</summary>
    public Severity Severity { get; set; } = Severity.P2;

    /// <summary>The runbook's recovery target for this scenario; the incident escalates to L2 when 80 % of it has passed.</summary>
    [Range(typeof(TimeSpan), "00:00:01", "7.00:00:00")]
    public TimeSpan Rto { get; set; } = TimeSpan.FromMinutes(2);

    /// <summary>The longest one evaluation may take; past it the check counts as not having looked.</summary>
    [Range(typeof(TimeSpan), "00:00:00.100", "00:05:00")]
    public TimeSpan Timeout { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>The parsed <see cref="Schedule"/>.</summary>
    public CrontabSchedule ParsedSchedule() => ParseSchedule(Schedule) ?? throw new InvalidOperationException($"'{Schedule}' is not an NCRONTAB expression");

    /// <summary>Six fields (seconds first) or the classic five; null when it does not parse.</summary>
    public static CrontabSchedule? ParseSchedule(string? expression)
    {
        if (string.IsNullOrWhiteSpace(expression))
        {
            return null;
        }

        var fields = expression.Split(' ', StringSplitOptions.RemoveEmptyEntries).Length;
        return CrontabSchedule.TryParse(expression, new CrontabSchedule.ParseOptions { IncludingSeconds = fields == 6 });
    }
}

/// <summary><c>Monitors:ReplicaLag</c>: byte lag, WAL receiver liveness and a heartbeat row; time lag is information only.</summary>
public sealed class ReplicaLagMonitorOptions : MonitorCheckOptions
{
    // Runbook RTO table: database failover, 2 min.
    public ReplicaLagMonitorOptions() => Rto = TimeSpan.FromMinutes(2);

    public const string Name = "ReplicaLag";

    /// <summary>The runbook's line: replication lag above this is an incident (measured by the heartbeat, not by the replay timestamp).</summary>
    [Range(typeof(TimeSpan), "00:00:00.100", "1.00:00:00")]
    public TimeSpan MaxLag { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>WAL the replica has not replayed yet, in bytes, above which it is lagging whatever the clock says.</summary>
    [Range(1L, long.MaxValue)]
    public long MaxLagBytes { get; set; } = 64L * 1024 * 1024;

    /// <summary>How long the check waits for the heartbeat it just wrote to show on the replica.</summary>
    [Range(typeof(TimeSpan), "00:00:00.050", "00:00:30")]
    public TimeSpan HeartbeatWait { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>
    /// The replica's <c>application_name</c> in the primary's <c>pg_stat_replication</c>; optional. Unset, the replica's
    /// row is found by the replication slot its WAL receiver streams from, else it is the only standby there.
    /// </summary>
    public string? ReplicaName { get; set; }
}

/// <summary><c>Monitors:ConnectionPool</c>: this process's Npgsql pool and the server's connections (runbook issue #1).</summary>
public sealed class ConnectionPoolMonitorOptions : MonitorCheckOptions
{
    // Runbook RTO table: database connection loss, 2 min.
    public ConnectionPoolMonitorOptions() => Rto = TimeSpan.FromMinutes(2);

    public const string Name = "ConnectionPool";

    /// <summary>Busy / max of this process's pool at or above which the pool counts as saturated.</summary>
    [Range(0.01, 1.0)]
    public double MaxPoolUsage { get; set; } = 0.9;

    /// <summary>Requests waiting for a connection at or above which the pool counts as exhausted.</summary>
    [Range(1, 100_000)]
    public int MaxPending { get; set; } = 1;

    /// <summary>Server connections (<c>pg_stat_activity</c>) over <c>max_connections</c> at or above which the server is nearly full.</summary>
    [Range(0.01, 1.0)]
    public double MaxServerUsage { get; set; } = 0.9;

    /// <summary>Acquire timeouts since the previous check (runbook: "Connection pool timeout" in logs); P1: requests are failing already.</summary>
    public Severity TimeoutsSeverity { get; set; } = Severity.P1;
}

/// <summary><c>Monitors:PrimaryDatabase</c>: the primary answers a query within the check's timeout (runbook: database primary down, P1).</summary>
public sealed class PrimaryDatabaseMonitorOptions : MonitorCheckOptions
{
    // Runbook: database primary down is P1; RTO table: database crash, 2 min.
    public PrimaryDatabaseMonitorOptions()
    {
        Severity = Severity.P1;
        Schedule = "*/10 * * * * *";
        For = TimeSpan.FromSeconds(20);
        ClearFor = TimeSpan.FromSeconds(30);
        Rto = TimeSpan.FromMinutes(2);
        Timeout = TimeSpan.FromSeconds(5);
    }

    public const string Name = "PrimaryDatabase";
}

/// <summary><c>Monitors:StuckWorkflows</c>: runs still running with no checkpoint for <see cref="StuckAfter"/> (runbook issue #3); a waiting approval is not stuck.</summary>
public sealed class StuckWorkflowsMonitorOptions : MonitorCheckOptions
{
    // No row of the RTO table; the P2 response time (1 h) stands in for it.
    public StuckWorkflowsMonitorOptions()
    {
        Schedule = "0 * * * * *";
        For = TimeSpan.Zero;
        Rto = TimeSpan.FromHours(1);
    }

    public const string Name = "StuckWorkflows";

    [Range(typeof(TimeSpan), "00:00:01", "7.00:00:00")]
    public TimeSpan StuckAfter { get; set; } = TimeSpan.FromMinutes(10);

    /// <summary>How many stuck runs a notice lists by id (the count is always given).</summary>
    [Range(1, 1000)]
    public int MaxListed { get; set; } = 20;
}

/// <summary><c>Monitors:FailureRate</c>: the share of runs that ended failed among those that ended within <see cref="Window"/>.</summary>
public sealed class FailureRateMonitorOptions : MonitorCheckOptions
{
    // Runbook: service degradation affecting >50% users is P1; no row of the RTO table, so the P1 response time (30 min).
    public FailureRateMonitorOptions()
    {
        Severity = Severity.P1;
        Schedule = "0 * * * * *";
        For = TimeSpan.FromMinutes(1);
        ClearFor = TimeSpan.FromMinutes(5);
        Rto = TimeSpan.FromMinutes(30);
    }

    public const string Name = "FailureRate";

    [Range(typeof(TimeSpan), "00:00:01", "7.00:00:00")]
    public TimeSpan Window { get; set; } = TimeSpan.FromMinutes(15);

    /// <summary>The runbook's "&gt;50% users": a failed share above this is a P1.</summary>
    [Range(0.0, 1.0)]
    public double MaxFailureRatio { get; set; } = 0.5;

    /// <summary>Fewer finished runs than this in the window say nothing about a rate.</summary>
    [Range(1, 1_000_000)]
    public int MinimumRuns { get; set; } = 10;
}

/// <summary><c>Monitors:CircuitBreakers</c>: any LLM provider's cluster-wide breaker open or half-open (runbook issue #5).</summary>
public sealed class CircuitBreakersMonitorOptions : MonitorCheckOptions
{
    // Runbook: an external service down with fallbacks is P2 (non-critical service down); RTO: the P2 response time (1 h).
    public CircuitBreakersMonitorOptions()
    {
        For = TimeSpan.Zero;
        ClearFor = TimeSpan.FromMinutes(1);
        Rto = TimeSpan.FromHours(1);
    }

    public const string Name = "CircuitBreakers";
}
