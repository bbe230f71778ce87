using System.ComponentModel.DataAnnotations;

namespace Orchestrator.Core.Monitoring;

/// <summary><c>Monitors:*</c> settings that concern every check and incident (each check has its own section below it).</summary>
public sealed class MonitorsOptions
{
    public const string SectionName = "Monitors";

    /// <summary>Off, no check runs on this instance (incidents and their API stay readable).</summary>
    public bool Enabled { get; set; } = true;

    /// <summary>The runbook's update cadence for P0/P1 incidents: "Every 15 min for P0/P1".</summary>
    [Range(typeof(TimeSpan), "00:00:01", "1.00:00:00")]
    public TimeSpan UpdateInterval { get; set; } = TimeSpan.FromMinutes(15);

    /// <summary>The runbook's escalation rule: "RTO at risk (&gt;80% of target time elapsed)".</summary>
    [Range(0.01, 1.0)]
    public double EscalateAt { get; set; } = 0.8;

    /// <summary>The template's <c>Owner:</c> line: who is on call (a Slack handle, a rota name).</summary>
    [Required]
    public string Owner { get; set; } = "@oncall-engineer";

    /// <summary>
    /// Connections of the monitors' own pool on the primary (the advisory-lock session, the checks' queries, the
    /// incident engine and the notice ledger), apart from the workflows' pool so a saturated pool can still be
    /// reported. Opened only while used: an instance that runs no check holds none.
    /// </summary>
    [Range(2, 20)]
    public int MaxPoolSize { get; set; } = 4;
}
