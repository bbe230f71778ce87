using System.ComponentModel.DataAnnotations;

namespace Orchestrator.Core.Metrics;

/// <summary>How the cluster-wide figures of <c>/metrics</c> are read from PostgreSQL at scrape time.</summary>
public sealed class MetricsOptions
{
    public const string SectionName = "Metrics";

    /// <summary>A scrape within this time of the last database read is served from it, so a scrape storm cannot load the database.</summary>
    [Range(typeof(TimeSpan), "00:00:00", "00:05:00")]
    public TimeSpan DatabaseCacheDuration { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>Longest a scrape waits for PostgreSQL; after it the last known values are served.</summary>
    [Range(typeof(TimeSpan), "00:00:00.100", "00:00:30")]
    public TimeSpan DatabaseTimeout { get; set; } = TimeSpan.FromSeconds(2);
}
