using System.ComponentModel.DataAnnotations;

namespace Orchestrator.Server.Durable;

/// <summary>
/// The Server's task hub on Azure Storage (Azurite locally). The defaults are tuned for the runbook's 30-second
/// crash RTO: a crashed step is retried one visibility timeout after it was taken, and a restarted process with
/// the same <see cref="WorkerId"/> reclaims its partitions at once.
/// </summary>
public sealed class DurableServerOptions
{
    public const string SectionName = "Durable";

    [Required]
    public string StorageConnectionString { get; set; } = "UseDevelopmentStorage=true";

    [Required]
    [RegularExpression("^[A-Za-z][A-Za-z0-9]{2,44}$", ErrorMessage = "Durable:TaskHubName must be 3-45 letters or digits, starting with a letter.")]
    public string TaskHubName { get; set; } = "orchestrator";

    /// <summary>Unique among live processes, stable across restarts of one (defaults to the machine name).</summary>
    public string? WorkerId { get; set; }

    [Range(1, 16)]
    public int PartitionCount { get; set; } = 4;

    [Range(typeof(TimeSpan), "00:00:05", "00:30:00")]
    public TimeSpan VisibilityTimeout { get; set; } = TimeSpan.FromSeconds(12);

    [Range(typeof(TimeSpan), "00:00:00.100", "00:00:30")]
    public TimeSpan MaxQueuePollingInterval { get; set; } = TimeSpan.FromSeconds(1);

    [Range(typeof(TimeSpan), "00:00:05", "00:01:00")]
    public TimeSpan LeaseInterval { get; set; } = TimeSpan.FromSeconds(10);

    [Range(typeof(TimeSpan), "00:00:01", "00:00:30")]
    public TimeSpan LeaseRenewInterval { get; set; } = TimeSpan.FromSeconds(3);

    [Range(typeof(TimeSpan), "00:00:01", "00:00:30")]
    public TimeSpan LeaseAcquireInterval { get; set; } = TimeSpan.FromSeconds(2);

    /// <summary>How often the Server checks that the task hub's storage still exists (and recreates it when it is gone).</summary>
    [Range(typeof(TimeSpan), "00:00:01", "00:10:00")]
    public TimeSpan TaskHubCheckInterval { get; set; } = TimeSpan.FromSeconds(10);

    [Range(1, 1000)]
    public int MaxConcurrentActivities { get; set; } = 32;

    [Range(1, 1000)]
    public int MaxConcurrentOrchestrations { get; set; } = 32;

    /// <summary>
    /// How long a stopping Server (SIGTERM, Ctrl-C, a rolling update) lets the steps in flight finish before it exits;
    /// it takes no new work meanwhile. The default covers one LLM call at the default <c>Llm:Timeout</c>; the host's
    /// shutdown timeout is this plus <see cref="ShutdownMargin"/>, and a container's termination grace period must be
    /// at least that (<c>terminationGracePeriodSeconds</c>, compose's <c>stop_grace_period</c>).
    /// </summary>
    [Range(typeof(TimeSpan), "00:00:00", "01:00:00")]
    public TimeSpan DrainTimeout { get; set; } = TimeSpan.FromMinutes(2);

    /// <summary>What the rest of a stop needs after the drain: stopping the worker, the timers and the HTTP server.</summary>
    public static readonly TimeSpan ShutdownMargin = TimeSpan.FromSeconds(10);

    public string EffectiveWorkerId => string.IsNullOrWhiteSpace(WorkerId) ? Environment.MachineName : WorkerId;
}
