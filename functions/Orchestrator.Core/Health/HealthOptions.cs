using System.ComponentModel.DataAnnotations;

namespace Orchestrator.Core.Health;

/// <summary>Limits of the health checks.</summary>
public sealed class HealthOptions
{
    public const string SectionName = "Health";

    /// <summary>Longest any one dependency check may take before it counts as failed.</summary>
    [Range(typeof(TimeSpan), "00:00:00.200", "00:00:30")]
    public TimeSpan CheckTimeout { get; set; } = TimeSpan.FromSeconds(3);

    /// <summary>Replication lag above this degrades <c>/health</c> (the runbook: lag over 30 s is an incident).</summary>
    [Range(typeof(TimeSpan), "00:00:01", "01:00:00")]
    public TimeSpan ReplicaLagDegradedAfter { get; set; } = TimeSpan.FromSeconds(30);
}
