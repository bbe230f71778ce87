using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Npgsql;
using Orchestrator.Core.Llm;
using Orchestrator.Core.Workflows;

namespace Orchestrator.Core.Metrics;

/// <summary>
/// Sets the series before each scrape: the cluster-wide ones from PostgreSQL (bounded by a timeout, read at most
/// once per <see cref="MetricsOptions.DatabaseCacheDuration"/> however many scrapes arrive, last values kept when
/// the database does not answer), and this process's pool and breaker figures.
/// </summary>
public sealed class ClusterMetrics : IDisposable
{
    private static readonly string[] Statuses = [RunStatus.Pending, RunStatus.Running, RunStatus.Completed, RunStatus.Failed, RunStatus.Cancelled];

    private readonly NpgsqlDataSource dataSource;
    private readonly OrchestratorMetrics metrics;
    private readonly NpgsqlPoolMetrics pool;
    private readonly CircuitBreakerRegistry breakers;
    private readonly MetricsOptions options;
    private readonly TimeProvider time;
    private readonly ILogger<ClusterMetrics> logger;
    private readonly SemaphoreSlim reading = new(1, 1);
    private readonly HashSet<string> replicasSeen = new(StringComparer.Ordinal);
    private DateTimeOffset lastRead = DateTimeOffset.MinValue;

    public ClusterMetrics(
        NpgsqlDataSource dataSource, OrchestratorMetrics metrics, NpgsqlPoolMetrics pool, CircuitBreakerRegistry breakers,
        IOptions<MetricsOptions> options, TimeProvider time, ILogger<ClusterMetrics> logger)
    {
        this.dataSource = dataSource;
        this.metrics = metrics;
        this.pool = pool;
        this.breakers = breakers;
        this.options = options.Value;
        this.time = time;
        this.logger = logger;
        metrics.Registry.AddBeforeCollectCallback(CollectAsync);
    }

    public void Dispose() => reading.Dispose();

    public async Task CollectAsync(CancellationToken cancellationToken)
    {
        pool.Collect();
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
        await using var batch = new NpgsqlBatch(connection)
        {
            BatchCommands =
            {
                new NpgsqlBatchCommand("SELECT status, count(*) FROM workflow_states GROUP BY status"),
                new NpgsqlBatchCommand("SELECT step_type, sum(failed_attempts) FROM workflow_steps WHERE failed_attempts > 0 GROUP BY step_type"),
                new NpgsqlBatchCommand("SELECT COALESCE((SELECT (value->>'enabled')::boolean FROM settings WHERE key = 'maintenance'), false)"),
                new NpgsqlBatchCommand(
                    """
                    SELECT COALESCE(application_name, 'replica'),
                           COALESCE(pg_wal_lsn_diff(pg_current_wal_lsn(), replay_lsn), 0),
                           COALESCE(EXTRACT(EPOCH FROM replay_lag), 0)
                      FROM pg_stat_replication
                    """),
            },
        };
        await using var reader = await batch.ExecuteReaderAsync(cancellationToken);

        var counts = Statuses.ToDictionary(s => s, _ => 0L);
        while (await reader.ReadAsync(cancellationToken))
        {
            counts[reader.GetString(0)] = reader.GetInt64(1);
        }

        await reader.NextResultAsync(cancellationToken);
        var stepErrors = new Dictionary<string, double>(StringComparer.Ordinal);
        while (await reader.ReadAsync(cancellationToken))
        {
            stepErrors[reader.GetString(0)] = (double)reader.GetInt64(1);
        }

        await reader.NextResultAsync(cancellationToken);
        await reader.ReadAsync(cancellationToken);
        var maintenance = reader.GetBoolean(0);

        await reader.NextResultAsync(cancellationToken);
        var replicas = new List<(string Name, double Bytes, double Seconds)>();
        while (await reader.ReadAsync(cancellationToken))
        {
            replicas.Add((reader.GetString(0), (double)reader.GetDecimal(1), reader.GetDouble(2)));
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

        metrics.MaintenanceMode.Set(maintenance ? 1 : 0);
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
