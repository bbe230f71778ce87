using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Npgsql;

namespace Orchestrator.Durable.Postgres;

/// <summary>How a <see cref="PostgresOrchestrationService"/> reaches its database and takes work.</summary>
public sealed class PostgresOrchestrationServiceSettings
{
    /// <summary>The database holding the <c>durable</c> schema (created by the product's migrations).</summary>
    public required NpgsqlDataSource DataSource { get; init; }

    /// <summary>
    /// Names this process's locks. Unique among live processes and stable across restarts of one: a restarted
    /// process releases the locks its crashed predecessor held at once, instead of waiting for them to expire.
    /// </summary>
    public string WorkerId { get; init; } = Environment.MachineName;

    /// <summary>
    /// How long a taken work item stays invisible to other workers unless it is renewed (DurableTask.Core renews an
    /// activity's lock while it runs). A crashed worker's work is taken over this long after its last renewal.
    /// </summary>
    public TimeSpan LockTimeout { get; init; } = TimeSpan.FromSeconds(12);

    /// <summary>
    /// The safety-net poll: an idle worker looks for work at least this often, even when no notification arrived
    /// (a notification is lost while the listening connection reconnects, and an expired lock sends none).
    /// </summary>
    public TimeSpan MaxPollingInterval { get; init; } = TimeSpan.FromSeconds(1);

    public int MaxConcurrentActivities { get; init; } = 32;

    public int MaxConcurrentOrchestrations { get; init; } = 32;

    /// <summary>Concurrent fetch loops for activities and for orchestration episodes.</summary>
    public int DispatcherCount { get; init; } = 1;

    public ILoggerFactory LoggerFactory { get; init; } = NullLoggerFactory.Instance;
}
