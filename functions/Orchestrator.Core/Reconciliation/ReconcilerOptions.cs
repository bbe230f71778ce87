using System.ComponentModel.DataAnnotations;

namespace Orchestrator.Core.Reconciliation;

/// <summary>How often unfinished runs in PostgreSQL are compared with their durable status, and how many at a time.</summary>
public sealed class ReconcilerOptions
{
    public const string SectionName = "Reconciler";

    /// <summary>Off only for diagnosis: without it a run whose orchestration was lost stays Running.</summary>
    public bool Enabled { get; set; } = true;

    /// <summary>The pause between two passes on the Server (the Functions app uses <c>Reconciler__Schedule</c>).</summary>
    [Range(typeof(TimeSpan), "00:00:01", "01:00:00")]
    public TimeSpan Interval { get; set; } = TimeSpan.FromSeconds(15);

    /// <summary>A run younger than this is left alone: its orchestration may still be being scheduled.</summary>
    [Range(typeof(TimeSpan), "00:00:01", "01:00:00")]
    public TimeSpan MinimumAge { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>Runs compared per pass; the least recently compared go first, so every run is visited in turn.</summary>
    [Range(1, 10_000)]
    public int BatchSize { get; set; } = 200;
}
