using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Npgsql;
using Orchestrator.Core.Metrics;

namespace Orchestrator.Core.Monitoring.Checks;

/// <summary>
/// Runbook issue #1, "Database Connection Pool Exhausted": this process's Npgsql pool (the figures the <c>db_pool_*</c>
/// series show, from <see cref="NpgsqlPoolMetrics"/>) and the server's connections against <c>max_connections</c>.
/// Conditions <c>pool-saturated</c>, <c>pool-timeouts</c> (raised to <see cref="ConnectionPoolMonitorOptions.TimeoutsSeverity"/>)
/// and <c>db-connections</c>.
/// </summary>
public sealed class ConnectionPoolCheck(
    [FromKeyedServices(MonitoringExtensions.DataSourceKey)] NpgsqlDataSource primary, NpgsqlPoolMetrics pool, IOptions<ConnectionPoolMonitorOptions> options, TimeProvider time,
    ILogger<ConnectionPoolCheck> logger) : IMonitorCheck
{
    public const string SaturatedKey = "pool-saturated";
    public const string TimeoutsKey = "pool-timeouts";
    public const string ServerKey = "db-connections";

    private const string Impact = "Workflows stuck; health check fails (\"Connection pool timeout\" in logs)";
    private const string RestartAndWatch =
        "Restart the application (docker-compose restart orchestrator / kubectl rollout restart deployment/orchestrator) " +
        "and watch curl http://localhost:8080/metrics | grep db_pool";
    private const string RootCause = "Root cause: too many concurrent workflows or connection leak";

    private readonly Lock gate = new();

    // The counter starts at zero with the process: timeouts before the first check count as new.
    private double timeoutsBefore;

    public string Name => ConnectionPoolMonitorOptions.Name;

    public MonitorCheckOptions Options => options.Value;

    public async Task<IReadOnlyList<ConditionReading>> EvaluateAsync(CancellationToken cancellationToken)
    {
        var settings = options.Value;
        var sample = pool.Sample();
        double newTimeouts;
        lock (gate)
        {
            newTimeouts = Math.Max(0, sample.Timeouts - timeoutsBefore);
            timeoutsBefore = Math.Max(timeoutsBefore, sample.Timeouts);
        }

        var readings = new List<ConditionReading> { Saturation(sample, settings), Timeouts(sample, newTimeouts, settings) };

        // A connection for the server's count would only join the queue of an exhausted pool: not looking then.
        if (sample.Pending > 0 || (sample.Max > 0 && sample.Busy >= sample.Max))
        {
            return readings;
        }

        var (answered, server) = await CheckQuery.TryAsync(this, primary, "the primary", time, logger, CountServerConnectionsAsync, cancellationToken);
        if (answered)
        {
            readings.Add(Server(server.Connections, server.Max, settings));
        }

        return readings;
    }

    private static ConditionReading Saturation(PoolSample sample, ConnectionPoolMonitorOptions settings)
    {
        var usage = sample.Max > 0 ? sample.Busy / sample.Max : 0;
        List<KeyValuePair<string, string>> facts =
        [
            new("Busy connections", $"{FactText.Count(sample.Busy)} of {FactText.Count(sample.Max)}"),
            new("Pool usage", FactText.Percent(usage)),
            new("Idle connections", FactText.Count(sample.Idle)),
            new("Pending requests", FactText.Count(sample.Pending)),
            new("Thresholds", $"usage {FactText.Percent(settings.MaxPoolUsage)}, pending {settings.MaxPending}"),
        ];
        if (usage < settings.MaxPoolUsage && sample.Pending < settings.MaxPending)
        {
            return ConditionReading.Clear(SaturatedKey, settings.Severity, "Connection pool saturated", facts);
        }

        return new ConditionReading(
            SaturatedKey, true, settings.Severity,
            $"Connection pool saturated: {FactText.Count(sample.Busy)} of {FactText.Count(sample.Max)} busy, {FactText.Count(sample.Pending)} waiting",
            Impact,
            $"Database connection pool exhausted on this instance: {FactText.Count(sample.Busy)} of {FactText.Count(sample.Max)} connections busy " +
            $"({FactText.Percent(usage)}), {FactText.Count(sample.Pending)} requests waiting for one. {RootCause}.",
            RestartAndWatch + "; tune the pool size (Postgres:MaxPoolSize).",
            facts);
    }

    private static ConditionReading Timeouts(PoolSample sample, double newTimeouts, ConnectionPoolMonitorOptions settings)
    {
        List<KeyValuePair<string, string>> facts =
        [
            new("New acquire timeouts", FactText.Count(newTimeouts)),
            new("Acquire timeouts since start", FactText.Count(sample.Timeouts)),
            new("Busy connections", $"{FactText.Count(sample.Busy)} of {FactText.Count(sample.Max)}"),
            new("Pending requests", FactText.Count(sample.Pending)),
        ];
        if (newTimeouts <= 0)
        {
            return ConditionReading.Clear(TimeoutsKey, settings.TimeoutsSeverity, "Connection pool timeout", facts);
        }

        return new ConditionReading(
            TimeoutsKey, true, settings.TimeoutsSeverity,
            $"Connection pool timeout: {FactText.Count(newTimeouts)} requests got no connection since the last check",
            Impact,
            $"\"Connection pool timeout\": {FactText.Count(newTimeouts)} requests for a database connection timed out since the last check " +
            $"({FactText.Count(sample.Timeouts)} since start; {FactText.Count(sample.Busy)} of {FactText.Count(sample.Max)} busy). {RootCause}.",
            RestartAndWatch + "; tune the pool size (Postgres:MaxPoolSize) and the connection timeout (Postgres:ConnectionTimeoutSeconds).",
            facts);
    }

    private static async Task<(long Connections, int Max)> CountServerConnectionsAsync(NpgsqlConnection connection, CancellationToken cancellationToken)
    {
        // Client backends only: background processes and WAL senders do not take max_connections slots.
        await using var command = new NpgsqlCommand(
            "SELECT count(*) FILTER (WHERE backend_type = 'client backend'), current_setting('max_connections')::int FROM pg_stat_activity", connection);
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        await reader.ReadAsync(cancellationToken);
        return (reader.GetInt64(0), reader.GetInt32(1));
    }

    private static ConditionReading Server(long connections, int max, ConnectionPoolMonitorOptions settings)
    {
        var usage = max > 0 ? (double)connections / max : 0;
        List<KeyValuePair<string, string>> facts =
        [
            new("Server connections", $"{connections} of {max}"),
            new("Server usage", FactText.Percent(usage)),
            new("Threshold", FactText.Percent(settings.MaxServerUsage)),
        ];
        if (usage < settings.MaxServerUsage)
        {
            return ConditionReading.Clear(ServerKey, settings.Severity, "PostgreSQL connections near max_connections", facts);
        }

        return new ConditionReading(
            ServerKey, true, settings.Severity,
            $"PostgreSQL connections {connections} of {max} (max_connections)",
            "New database connections are refused once max_connections is reached: health check fails, workflows stuck",
            $"The primary has {connections} client connections of max_connections {max} ({FactText.Percent(usage)}). {RootCause} (in any client of the database).",
            "See who holds them: psql -h primary -U postgres -c \"SELECT application_name, state, count(*) FROM pg_stat_activity GROUP BY 1, 2 ORDER BY 3 DESC;\"; " +
            RestartAndWatch + ".",
            facts);
    }
}
