using System.ComponentModel.DataAnnotations;

namespace Orchestrator.Server.Durable;

/// <summary>
/// The Server's task hub: in PostgreSQL (the default) or on Azure Storage (Azurite locally). The defaults are tuned
/// for the runbook's 30-second crash RTO: a crashed step is retried one visibility timeout after it was taken, and a
/// restarted process with the same <see cref="WorkerId"/> takes its work back at once.
/// </summary>
public sealed class DurableServerOptions : IValidatableObject
{
    public const string SectionName = "Durable";

    /// <summary><c>Postgres</c>: the task hub lives in the product's database; <c>AzureStorage</c>: in the storage account of <see cref="StorageConnectionString"/>.</summary>
    [EnumDataType(typeof(DurableBackendKind), ErrorMessage = "Durable:Backend must be Postgres or AzureStorage.")]
    public DurableBackendKind Backend { get; set; } = DurableBackendKind.Postgres;

    /// <summary>The Azure Storage backend's account (Azurite's by default), required on that backend; the Postgres backend does not use it.</summary>
    public string StorageConnectionString { get; set; } = "UseDevelopmentStorage=true";

    /// <summary>The Azure Storage backend's queue, table and blob prefix; the Postgres backend's task hub is the database's <c>durable</c> schema.</summary>
    [Required]
    [RegularExpression("^[A-Za-z][A-Za-z0-9]{2,44}$", ErrorMessage = "Durable:TaskHubName must be 3-45 letters or digits, starting with a letter.")]
    public string TaskHubName { get; set; } = "orchestrator";

    /// <summary>Unique among live processes, stable across restarts of one (defaults to the machine name).</summary>
    public string? WorkerId { get; set; }

    /// <summary>Azure Storage only: control-queue partitions (the Postgres backend has none; any number of Servers compete for every instance).</summary>
    [Range(1, 16)]
    public int PartitionCount { get; set; } = 4;

    /// <summary>How long a taken work item stays hidden from other Servers unless renewed (renewed while a step runs): the crash RTO of a Server that does not come back.</summary>
    [Range(typeof(TimeSpan), "00:00:05", "00:30:00")]
    public TimeSpan VisibilityTimeout { get; set; } = TimeSpan.FromSeconds(12);

    /// <summary>The slowest an idle worker looks for work (the Postgres backend is woken at once by LISTEN/NOTIFY; this is its safety net).</summary>
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

    /// <summary>Postgres only: concurrent fetch loops for activities and for orchestration episodes.</summary>
    [Range(1, 16)]
    public int DispatcherCount { get; set; } = 1;

    /// <summary>
    /// How long the history of an ended instance (completed, failed, terminated) is kept before it is purged; zero
    /// keeps it forever. Runs and their steps stay in the product's own tables either way.
    /// </summary>
    [Range(typeof(TimeSpan), "00:00:00", "3650.00:00:00")]
    public TimeSpan HistoryRetention { get; set; } = TimeSpan.FromDays(30);

    /// <summary>How often ended instances older than <see cref="HistoryRetention"/> are purged.</summary>
    [Range(typeof(TimeSpan), "00:00:10", "1.00:00:00")]
    public TimeSpan HistoryRetentionInterval { get; set; } = TimeSpan.FromHours(1);

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

    public IEnumerable<ValidationResult> Validate(ValidationContext validationContext)
    {
        // Only the Azure Storage backend keeps the task hub in a storage account: a PostgreSQL-only install sets none.
        if (Backend == DurableBackendKind.AzureStorage && string.IsNullOrWhiteSpace(StorageConnectionString))
        {
            yield return new ValidationResult(
                $"is needed when {SectionName}:{nameof(Backend)} is {nameof(DurableBackendKind.AzureStorage)}: the task hub's storage account " +
                "(DefaultEndpointsProtocol=https;AccountName=...;AccountKey=...), or UseDevelopmentStorage=true for Azurite",
                [nameof(StorageConnectionString)]);
        }
    }
}
