using System.Globalization;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using Npgsql;
using Orchestrator.Core.Health;
using Orchestrator.Core.Resilience;

namespace Orchestrator.Core.Monitoring.Checks;

/// <summary>
/// The runbook's "Database primary down" (P1): the primary answers <c>SELECT 1</c> within the check's timeout and is
/// not in recovery. A primary that does not answer is this check's finding, so it always returns its one reading,
/// <c>primary-unreachable</c>.
/// </summary>
public sealed class PrimaryDatabaseCheck([FromKeyedServices(MonitoringExtensions.DataSourceKey)] NpgsqlDataSource primary, IOptions<PrimaryDatabaseMonitorOptions> options, TimeProvider time) : IMonitorCheck
{
    public const string Key = "primary-unreachable";

    /// <summary>Its finding is that nothing can be recorded: the runner holds its incident and tells it directly.</summary>
    public bool WatchesTheDatabase => true;

    private const string Impact = "Workflows cannot start, checkpoint or finish: runs wait for the database (health check fails)";

    private const string NextStep =
        "Check the database: pg_isready -h localhost -p 5432 and curl http://localhost:8080/health; check logs " +
        "(docker-compose logs --since=5m orchestrator / kubectl logs -f deployment/orchestrator --since=5m); " +
        "if the primary does not come back, fail over to the replica (RTO 2 minutes)";

    public string Name => PrimaryDatabaseMonitorOptions.Name;

    public MonitorCheckOptions Options => options.Value;

    public async Task<IReadOnlyList<ConditionReading>> EvaluateAsync(CancellationToken cancellationToken)
    {
        var settings = options.Value;
        var target = Target();
        var started = time.GetTimestamp();
        string? failure;
        var answered = false;
        try
        {
            var inRecovery = await BoundedStatement.RunAsync(primary, settings.Timeout, time, static async (connection, token) =>
            {
                await using var command = new NpgsqlCommand("SELECT 1, pg_is_in_recovery()", connection);
                await using var reader = await command.ExecuteReaderAsync(token);
                await reader.ReadAsync(token);
                return reader.GetBoolean(1);
            }, cancellationToken);
            answered = true;
            failure = inRecovery ? "the primary is in recovery (a read-only standby): a failover is under way or the connection string points at a replica" : null;
        }
        catch (Exception ex) when (ex is NpgsqlException or TimeoutException or IOException or System.Net.Sockets.SocketException
                                   || (ex is OperationCanceledException && !cancellationToken.IsCancellationRequested))
        {
            failure = $"the primary does not answer within {FactText.Seconds(settings.Timeout)}: {HealthText.Describe(ex)}";
        }

        var elapsed = time.GetElapsedTime(started);
        List<KeyValuePair<string, string>> facts =
        [
            new("Primary", target),
            new("Answered", FactText.YesNo(answered)),
            new("Checked in", string.Create(CultureInfo.InvariantCulture, $"{elapsed.TotalMilliseconds:0} ms")),
            new("Timeout", FactText.Seconds(settings.Timeout)),
        ];
        if (failure is null)
        {
            return [ConditionReading.Clear(Key, settings.Severity, "Database primary down", facts)];
        }

        facts.Add(new("Error", failure));
        return
        [
            new ConditionReading(Key, true, settings.Severity, "Database primary down (" + target + ")", Impact, $"Database primary down: {failure}.", NextStep, facts),
        ];
    }

    private string Target()
    {
        var builder = new NpgsqlConnectionStringBuilder(primary.ConnectionString);
        return $"{builder.Host}:{builder.Port}/{builder.Database}";
    }
}
