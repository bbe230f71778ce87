using System.ComponentModel.DataAnnotations;

namespace Orchestrator.Core.Resilience;

/// <summary>How long work waits out a dependency outage (PostgreSQL, task hub storage, the LLM) before it gives up.</summary>
public sealed class ResilienceOptions
{
    public const string SectionName = "Resilience";

    /// <summary>
    /// How long one activity keeps retrying a PostgreSQL call that fails for a transient reason before it hands the
    /// failure to the orchestration (which retries the activity). Longer than the runbook's RTO for a lost database
    /// connection (2 min), so a paid LLM result waits in memory for the database instead of being bought again.
    /// </summary>
    [Range(typeof(TimeSpan), "00:00:01", "01:00:00")]
    public TimeSpan DatabaseRetryWindow { get; set; } = TimeSpan.FromMinutes(3);

    /// <summary>The longest pause between two attempts at a PostgreSQL call inside an activity.</summary>
    [Range(typeof(TimeSpan), "00:00:00.050", "00:01:00")]
    public TimeSpan DatabaseRetryMaxDelay { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>
    /// How long a run keeps retrying a step, or the recording of its end, while a dependency is unavailable, after
    /// the step's own retry policy is spent. Only when this is exceeded does an outage fail a run.
    /// </summary>
    [Range(typeof(TimeSpan), "00:00:10", "7.00:00:00")]
    public TimeSpan OutageWindow { get; set; } = TimeSpan.FromMinutes(30);

    /// <summary>The longest pause between two attempts of an activity during an outage.</summary>
    [Range(typeof(TimeSpan), "00:00:01", "00:10:00")]
    public TimeSpan OutageRetryMaxInterval { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>
    /// How long a step's claim stays valid without renewal. A second execution of the same activity waits while the
    /// lease is live and takes the step over once it has lapsed (the holder died or stalled): well inside the
    /// runbook's 30 s crash RTO.
    /// </summary>
    [Range(typeof(TimeSpan), "00:00:01", "00:10:00")]
    public TimeSpan StepLeaseDuration { get; set; } = TimeSpan.FromSeconds(15);

    /// <summary>How often the execution holding a step renews its lease while the step's call runs (less than half the lease).</summary>
    [Range(typeof(TimeSpan), "00:00:00.100", "00:05:00")]
    public TimeSpan StepLeaseRenewInterval { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>How often an execution waiting for another's lease, or for its run's budget reservations to settle, looks again.</summary>
    [Range(typeof(TimeSpan), "00:00:00.050", "00:00:10")]
    public TimeSpan StepWaitPollInterval { get; set; } = TimeSpan.FromMilliseconds(300);
}
