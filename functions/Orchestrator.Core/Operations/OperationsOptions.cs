using System.ComponentModel.DataAnnotations;

namespace Orchestrator.Core.Operations;

/// <summary>How quickly every instance picks up cluster-wide admin state, and what a refused start tells clients.</summary>
public sealed class OperationsOptions
{
    public const string SectionName = "Operations";

    /// <summary>How often each instance reads maintenance mode from PostgreSQL (breakers keep in step on their own, <c>Llm:Breakers:SyncInterval</c>).</summary>
    [Range(typeof(TimeSpan), "00:00:00.200", "00:00:30")]
    public TimeSpan RefreshInterval { get; set; } = TimeSpan.FromSeconds(2);

    /// <summary>The <c>Retry-After</c> a start refused by maintenance mode carries.</summary>
    [Range(typeof(TimeSpan), "00:00:01", "01:00:00")]
    public TimeSpan MaintenanceRetryAfter { get; set; } = TimeSpan.FromSeconds(60);
}
