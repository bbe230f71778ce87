using System.Globalization;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Npgsql;

namespace Orchestrator.Core.Monitoring.Checks;

/// <summary>
/// The runbook's "Service degradation affecting &gt;50% users" (P1): the share of runs that ended <c>Failed</c> among
/// those that ended <c>Completed</c> or <c>Failed</c> within <see cref="FailureRateMonitorOptions.Window"/>. Cancelled
/// runs are neither: a cancel is someone's decision, not a failure, and counting it as finished would dilute the rate.
/// One reading, <c>failure-rate</c>; below <see cref="FailureRateMonitorOptions.MinimumRuns"/> finished runs it is clear.
/// </summary>
public sealed class FailureRateCheck(
    [FromKeyedServices(MonitoringExtensions.DataSourceKey)] NpgsqlDataSource primary, IOptions<FailureRateMonitorOptions> options, TimeProvider time, ILogger<FailureRateCheck> logger) : IMonitorCheck
{
    public const string Key = "failure-rate";

    private const int TopErrors = 3;
    private const int ErrorLength = 160;

    public string Name => FailureRateMonitorOptions.Name;

    public MonitorCheckOptions Options => options.Value;

    public async Task<IReadOnlyList<ConditionReading>> EvaluateAsync(CancellationToken cancellationToken)
    {
        var settings = options.Value;
        var since = time.GetUtcNow() - settings.Window;
        var (answered, counts) = await CheckQuery.TryAsync(
            this, primary, "the primary", time, logger, (connection, token) => ReadAsync(connection, since, token), cancellationToken);
        if (!answered)
        {
            return [];
        }

        var ratio = counts.Finished == 0 ? 0 : (double)counts.Failed / counts.Finished;
        List<KeyValuePair<string, string>> facts =
        [
            new("Failed runs", counts.Failed.ToString(CultureInfo.InvariantCulture)),
            new("Finished runs", counts.Finished.ToString(CultureInfo.InvariantCulture)),
            new("Failure ratio", FactText.Percent(ratio)),
            new("Window", FactText.Duration(settings.Window)),
            new("Cancelled runs (not counted)", counts.Cancelled.ToString(CultureInfo.InvariantCulture)),
            new("Threshold", $"over {FactText.Percent(settings.MaxFailureRatio)} of at least {settings.MinimumRuns} runs"),
        ];
        for (var i = 0; i < counts.Errors.Count; i++)
        {
            facts.Add(new($"Top error {i + 1}", $"{counts.Errors[i].Count} × {counts.Errors[i].Error}"));
        }

        if (counts.Finished < settings.MinimumRuns || ratio <= settings.MaxFailureRatio)
        {
            return [ConditionReading.Clear(Key, settings.Severity, "Workflow failure rate", facts)];
        }

        var top = counts.Errors.Count > 0 ? $" Most frequent error: {counts.Errors[0].Error} ({counts.Errors[0].Count} runs)." : "";
        return
        [
            new ConditionReading(
                Key, true, settings.Severity,
                $"Workflow failure rate {FactText.Percent(ratio)} ({counts.Failed} of {counts.Finished} runs in {FactText.Duration(settings.Window)})",
                $"Workflows failing, {FactText.Percent(ratio)} error rate (service degradation affecting >{FactText.Percent(settings.MaxFailureRatio)} users)",
                $"{counts.Failed} of the {counts.Finished} runs that finished in the last {FactText.Duration(settings.Window)} failed.{top}",
                "Check recent logs: docker-compose logs --tail=100 orchestrator (kubectl logs -f deployment/orchestrator --since=5m); " +
                "check error rates: curl http://localhost:8080/metrics | grep error_total; and the breakers: curl http://localhost:8080/metrics | grep circuit_breaker",
                facts),
        ];
    }

    private static async Task<Counts> ReadAsync(NpgsqlConnection connection, DateTimeOffset since, CancellationToken cancellationToken)
    {
        await using var batch = new NpgsqlBatch(connection)
        {
            BatchCommands =
            {
                new NpgsqlBatchCommand(
                    """
                    SELECT count(*) FILTER (WHERE status = 'Failed'), count(*) FILTER (WHERE status IN ('Completed', 'Failed')),
                           count(*) FILTER (WHERE status = 'Cancelled')
                      FROM workflow_states
                     WHERE status IN ('Completed', 'Failed', 'Cancelled') AND completed_at >= $1
                    """) { Parameters = { new NpgsqlParameter { Value = since } } },
                new NpgsqlBatchCommand(
                    """
                    SELECT left(COALESCE(error, '(no error recorded)'), $2), count(*)
                      FROM workflow_states
                     WHERE status = 'Failed' AND completed_at >= $1
                     GROUP BY 1 ORDER BY 2 DESC, 1 LIMIT $3
                    """) { Parameters = { new NpgsqlParameter { Value = since }, new NpgsqlParameter { Value = ErrorLength }, new NpgsqlParameter { Value = TopErrors } } },
            },
        };
        await using var reader = await batch.ExecuteReaderAsync(cancellationToken);
        await reader.ReadAsync(cancellationToken);
        var (failed, finished, cancelled) = (reader.GetInt64(0), reader.GetInt64(1), reader.GetInt64(2));
        await reader.NextResultAsync(cancellationToken);
        var errors = new List<(string, long)>();
        while (await reader.ReadAsync(cancellationToken))
        {
            errors.Add((reader.GetString(0), reader.GetInt64(1)));
        }

        return new Counts(failed, finished, cancelled, errors);
    }

    private sealed record Counts(long Failed, long Finished, long Cancelled, IReadOnlyList<(string Error, long Count)> Errors);
}
