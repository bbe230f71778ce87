using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Npgsql;
using Orchestrator.Core.Llm;
using Orchestrator.Core.Operations;
using Orchestrator.Core.Persistence;
using Orchestrator.Core.Workflows;

namespace Orchestrator.Core.Metrics;

/// <summary>
/// Sets the series before each scrape: the cluster-wide ones from PostgreSQL (bounded by a timeout, read at most
/// once per <see cref="MetricsOptions.DatabaseCacheDuration"/> however many scrapes arrive, last values kept when
/// the database does not answer), maintenance mode as the instance obeys it (<see cref="ClusterState"/>), and this
/// process's pool and breaker figures.
/// </summary>
public sealed class ClusterMetrics : IDisposable
{
    // Arbitrary but fixed: the instance that recomputes the shared run counts holds it for that transaction.
    private const long SnapshotLockKey = 0x4C4C4D4F4D455452;

    private readonly NpgsqlDataSource dataSource;
    private readonly OrchestratorMetrics metrics;
    private readonly NpgsqlPoolMetrics pool;
    private readonly CircuitBreakerRegistry breakers;
    private readonly ClusterState cluster;
    private readonly MetricsOptions options;
    private readonly TimeProvider time;
    private readonly ILogger<ClusterMetrics> logger;
    private readonly SemaphoreSlim reading = new(1, 1);
    private readonly HashSet<string> replicasSeen = new(StringComparer.Ordinal);
    private DateTimeOffset lastRead = DateTimeOffset.MinValue;

    public ClusterMetrics(
        NpgsqlDataSource dataSource, OrchestratorMetrics metrics, NpgsqlPoolMetrics pool, CircuitBreakerRegistry breakers, ClusterState cluster,
        IOptions<MetricsOptions> options, TimeProvider time, ILogger<ClusterMetrics> logger)
    {
        this.dataSource = dataSource;
        this.metrics = metrics;
        this.pool = pool;
        this.breakers = breakers;
        this.cluster = cluster;
        this.options = options.Value;
        this.time = time;
        this.logger = logger;
    }

    public void Dispose() => reading.Dispose();

    /// <summary>
    /// Runs by status and failed step attempts by type, from the snapshot shared by the cluster. The first instance to
    /// find it older than the cache period recomputes it under an advisory lock; an instance that finds the lock taken
    /// uses the snapshot it has, one period old at most.
    /// </summary>
    private async Task<RunCounts> RunCountsAsync(NpgsqlConnection connection, CancellationToken cancellationToken)
    {
        var (stored, computedAt) = await ReadSnapshotAsync(connection, null, cancellationToken);
        if (stored is not null && time.GetUtcNow() - computedAt < options.DatabaseCacheDuration)
        {
            return stored;
        }

        await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
        await using (var tryLock = new NpgsqlCommand("SELECT pg_try_advisory_xact_lock(@key)", connection, transaction))
        {
            tryLock.Parameters.AddWithValue("key", SnapshotLockKey);
            if (!(bool)(await tryLock.ExecuteScalarAsync(cancellationToken))! && stored is not null)
            {
                await transaction.CommitAsync(cancellationToken);
                return stored;
            }
        }

        var counts = new RunCounts(new Dictionary<string, long>(StringComparer.Ordinal), new Dictionary<string, double>(StringComparer.Ordinal));
        await using (var batch = new NpgsqlBatch(connection, transaction)
        {
            BatchCommands =
            {
                new NpgsqlBatchCommand("SELECT status, count(*) FROM workflow_states GROUP BY status"),
                new NpgsqlBatchCommand("SELECT step_type, sum(failed_attempts) FROM workflow_steps WHERE failed_attempts > 0 GROUP BY step_type"),
            },
        })
        {
            await using var reader = await batch.ExecuteReaderAsync(cancellationToken);
            while (await reader.ReadAsync(cancellationToken))
            {
                counts.Runs[reader.GetString(0)] = reader.GetInt64(1);
            }

            await reader.NextResultAsync(cancellationToken);
            while (await reader.ReadAsync(cancellationToken))
            {
                counts.StepErrors[reader.GetString(0)] = (double)reader.GetInt64(1);
            }
        }

        await using (var upsert = new NpgsqlCommand(
            """
            INSERT INTO metrics_snapshot (name, value, computed_at, computed_by) VALUES ('runs', @value::jsonb, @at, @by)
            ON CONFLICT (name) DO UPDATE SET value = EXCLUDED.value, computed_at = EXCLUDED.computed_at, computed_by = EXCLUDED.computed_by
            """, connection, transaction))
        {
            upsert.Parameters.AddWithValue("value", System.Text.Json.JsonSerializer.Serialize(counts));
            upsert.Parameters.AddWithValue("at", time.GetUtcNow().UtcDateTime);
            upsert.Parameters.AddWithValue("by", Environment.MachineName);
            await upsert.ExecuteNonQueryAsync(cancellationToken);
        }

        await transaction.CommitAsync(cancellationToken);
        metrics.SnapshotRefreshes.Inc();
        return counts;
    }

    private static async Task<(RunCounts? Counts, DateTimeOffset ComputedAt)> ReadSnapshotAsync(
        NpgsqlConnection connection, NpgsqlTransaction? transaction, CancellationToken cancellationToken)
    {
        await using var read = new NpgsqlCommand("SELECT value::text, computed_at FROM metrics_snapshot WHERE name = 'runs'", connection, transaction);
        await using var reader = await read.ExecuteReaderAsync(cancellationToken);
        return await reader.ReadAsync(cancellationToken)
            ? (System.Text.Json.JsonSerializer.Deserialize<RunCounts>(reader.GetString(0)), reader.GetFieldValue<DateTimeOffset>(1))
            : (null, DateTimeOffset.MinValue);
    }

    /// <summary>The shared snapshot: runs by status, failed step attempts by step type.</summary>
    private sealed record RunCounts(Dictionary<string, long> Runs, Dictionary<string, double> StepErrors);

    public async Task CollectAsync(CancellationToken cancellationToken)
    {
        pool.Collect();
        metrics.MaintenanceMode.Set(cluster.Maintenance.Enabled ? 1 : 0);
        foreach (var (name, state) in breakers.States())
        {
            metrics.CircuitBreakerState.WithLabels(name).Set(CircuitBreakerRegistry.MetricValue(state));
        }

        if (time.GetUtcNow() - lastRead < options.DatabaseCacheDuration)
        {
            return;
        }

        // One database read at a time; scrapes that arrive meanwhile are answered with the values already there.
        if (!await reading.WaitAsync(0, cancellationToken))
        {
            return;
        }

        try
        {
            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            timeout.CancelAfter(options.DatabaseTimeout);
            metrics.DatabaseReads.Inc();
            await ReadDatabaseAsync(timeout.Token);
            lastRead = time.GetUtcNow();
            metrics.DatabaseUp.Set(1);
        }
        catch (Exception ex) when (ex is NpgsqlException or OperationCanceledException or TimeoutException or InvalidOperationException)
        {
            metrics.DatabaseUp.Set(0);
            Log.MetricsDatabaseUnavailable(logger, ex.Message);
        }
        finally
        {
            reading.Release();
        }
    }

    private async Task ReadDatabaseAsync(CancellationToken cancellationToken)
    {
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        var snapshot = await RunCountsAsync(connection, cancellationToken);
        var counts = RunStatus.All.ToDictionary(s => s, s => snapshot.Runs.GetValueOrDefault(s));
        var stepErrors = snapshot.StepErrors;

        // The replicas are a row each, and unresolved incidents a few rows (an index holds them): every instance reads them itself.
        var replicas = (await ReplicationQueries.ReadStandbysAsync(connection, cancellationToken))
            .Select(r => (r.Name, Bytes: (double)(r.LagBytes ?? 0), Seconds: r.ReplayLag?.TotalSeconds ?? 0))
            .ToList();
        await using var incidents = new NpgsqlCommand("SELECT severity, count(*) FROM incidents WHERE status <> 'resolved' GROUP BY severity", connection);
        await using var reader = await incidents.ExecuteReaderAsync(cancellationToken);
        var unresolved = new Dictionary<string, long>(StringComparer.Ordinal);
        while (await reader.ReadAsync(cancellationToken))
        {
            unresolved[reader.GetString(0)] = reader.GetInt64(1);
        }

        foreach (var severity in Enum.GetNames<Incidents.Severity>())
        {
            metrics.IncidentsOpen.WithLabels(severity).Set(unresolved.GetValueOrDefault(severity));
        }

        foreach (var (status, count) in counts)
        {
            metrics.Workflows.WithLabels(status).Set(count);
        }

        metrics.WorkflowErrors.IncTo(counts[RunStatus.Failed]);
        foreach (var (type, count) in stepErrors)
        {
            metrics.StepErrors.WithLabels(type).IncTo(count);
        }

        metrics.ReplicasConnected.Set(replicas.Count);
        foreach (var gone in replicasSeen.Except(replicas.Select(r => r.Name)).ToList())
        {
            metrics.ReplicationLag.RemoveLabelled(gone);
            metrics.ReplicationLagBytes.RemoveLabelled(gone);
            replicasSeen.Remove(gone);
        }

        foreach (var (name, bytes, seconds) in replicas)
        {
            replicasSeen.Add(name);
            // replay_lag keeps its last value (or goes NULL) on an idle stream; nothing left to replay is no lag.
            metrics.ReplicationLag.WithLabels(name).Set(bytes <= 0 ? 0 : seconds);
            metrics.ReplicationLagBytes.WithLabels(name).Set(bytes);
        }
    }
}
