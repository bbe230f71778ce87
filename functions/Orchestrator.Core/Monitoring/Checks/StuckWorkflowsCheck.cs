using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Npgsql;

namespace Orchestrator.Core.Monitoring.Checks;

/// <summary>
/// Runbook issue #3, "Workflow Stuck in Running State": runs <c>Running</c> with no checkpoint (<c>last_checkpoint</c>,
/// else <c>created_at</c>) for <see cref="StuckWorkflowsMonitorOptions.StuckAfter"/>. A run waiting for an approval
/// (a <c>Waiting</c> step, migration 0002) is not stuck until that wait's own deadline has passed. One reading,
/// <c>stuck-workflows</c>, listing the runs and what each is doing.
/// </summary>
public sealed class StuckWorkflowsCheck(
    [FromKeyedServices(MonitoringExtensions.DataSourceKey)] NpgsqlDataSource primary, IOptions<StuckWorkflowsMonitorOptions> options, TimeProvider time, ILogger<StuckWorkflowsCheck> logger) : IMonitorCheck
{
    public const string Key = "stuck-workflows";

    // The step each run is in: the latest that is running or waiting (a run in a parallel branch may have several).
    private const string Sql =
        """
        SELECT s.id, s.definition_name, COALESCE(s.last_checkpoint, s.created_at), count(*) OVER (),
               w.step_id, w.step_type, w.status, w.started_at, w.attempt, w.wait_event, w.wait_until,
               (SELECT count(*) FROM workflow_steps a WHERE a.run_id = s.id AND a.status IN ('Running', 'Waiting'))
          FROM workflow_states s
          LEFT JOIN LATERAL (
                SELECT step_id, step_type, status, started_at, attempt, wait_event, wait_until
                  FROM workflow_steps
                 WHERE run_id = s.id AND status IN ('Running', 'Waiting')
                 ORDER BY started_at DESC NULLS LAST, id DESC
                 LIMIT 1) w ON true
         WHERE s.status = 'Running'
           AND COALESCE(s.last_checkpoint, s.created_at) < $1
           AND NOT EXISTS (SELECT 1 FROM workflow_steps p
                            WHERE p.run_id = s.id AND p.status = 'Waiting' AND (p.wait_until IS NULL OR p.wait_until > $2))
         ORDER BY COALESCE(s.last_checkpoint, s.created_at), s.id
         LIMIT $3
        """;

    public string Name => StuckWorkflowsMonitorOptions.Name;

    public MonitorCheckOptions Options => options.Value;

    public async Task<IReadOnlyList<ConditionReading>> EvaluateAsync(CancellationToken cancellationToken)
    {
        var settings = options.Value;
        var now = time.GetUtcNow();
        var (answered, stuck) = await CheckQuery.TryAsync(
            this, primary, "the primary", time, logger, (connection, token) => ReadAsync(connection, now, settings, token), cancellationToken);
        if (!answered)
        {
            return [];
        }

        var total = stuck.Count == 0 ? 0 : stuck[0].Total;
        List<KeyValuePair<string, string>> facts =
        [
            new("Stuck runs", total.ToString(System.Globalization.CultureInfo.InvariantCulture)),
            new("No checkpoint for", "more than " + FactText.Duration(settings.StuckAfter)),
        ];
        foreach (var run in stuck)
        {
            facts.Add(new("Run " + run.Id, Describe(run, now)));
        }

        if (total > stuck.Count)
        {
            facts.Add(new("Not listed", $"{total - stuck.Count} more"));
        }

        if (total == 0)
        {
            return [ConditionReading.Clear(Key, settings.Severity, "Workflows stuck in Running state", facts)];
        }

        var first = stuck[0].Id;
        var ids = string.Join(", ", stuck.Select(r => r.Id)) + (total > stuck.Count ? $" and {total - stuck.Count} more" : "");
        return
        [
            new ConditionReading(
                Key, true, settings.Severity,
                total == 1 ? $"Workflow {first} stuck in Running state" : $"{total} workflows stuck in Running state",
                "Workflow not progressing: no recent checkpoints, timeout errors",
                $"{total} runs have been Running with no checkpoint for more than {FactText.Duration(settings.StuckAfter)}: {ids}. " +
                "Root cause: external API timeout, deadlock, or bug.",
                $"Check workflow status: curl http://localhost:8080/api/v1/workflows/{first}; cancel and retry: " +
                $"curl -X POST http://localhost:8080/api/v1/workflows/{first}/cancel -H \"Authorization: Bearer $ADMIN_TOKEN\" then " +
                $"curl -X POST http://localhost:8080/api/v1/workflows/{first}/retry",
                facts),
        ];
    }

    private static async Task<IReadOnlyList<StuckRun>> ReadAsync(NpgsqlConnection connection, DateTimeOffset now, StuckWorkflowsMonitorOptions settings, CancellationToken cancellationToken)
    {
        await using var command = new NpgsqlCommand(Sql, connection)
        {
            Parameters =
            {
                new NpgsqlParameter { Value = now - settings.StuckAfter },
                new NpgsqlParameter { Value = now },
                new NpgsqlParameter { Value = settings.MaxListed },
            },
        };
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        var runs = new List<StuckRun>();
        while (await reader.ReadAsync(cancellationToken))
        {
            runs.Add(new StuckRun(
                reader.GetString(0), reader.GetString(1), reader.GetFieldValue<DateTimeOffset>(2), reader.GetInt64(3),
                reader.IsDBNull(4) ? null : new ActiveStep(
                    reader.GetString(4), reader.GetString(5), reader.GetString(6),
                    reader.IsDBNull(7) ? null : reader.GetFieldValue<DateTimeOffset>(7), reader.GetInt32(8),
                    reader.IsDBNull(9) ? null : reader.GetString(9),
                    reader.IsDBNull(10) ? null : reader.GetFieldValue<DateTimeOffset>(10)),
                reader.GetInt64(11)));
        }

        return runs;
    }

    /// <summary>What the run waits for, e.g. <c>step summarize (llm) since 12:01:07, attempt 2</c>.</summary>
    private static string Describe(StuckRun run, DateTimeOffset now)
    {
        var quiet = $"no checkpoint for {FactText.Duration(now - run.LastCheckpoint)}";
        if (run.Step is not { } step)
        {
            return $"no step running ({run.Definition}), {quiet}";
        }

        var since = step.StartedAt is { } started ? " since " + FactText.Clock(started) : "";
        var what = step.Status == Workflows.StepStatus.Waiting
            ? $"step {step.StepId} ({step.StepType}) waiting for event '{step.WaitEvent ?? step.StepId}'{since}, its timeout {(step.WaitUntil is { } until ? FactText.Clock(until) : "unknown")} passed"
            : $"step {step.StepId} ({step.StepType}){since}, attempt {step.Attempt}";
        var others = run.ActiveSteps > 1 ? $" (+{run.ActiveSteps - 1} more steps active)" : "";
        return $"{what}{others}; {quiet}";
    }

    private sealed record StuckRun(string Id, string Definition, DateTimeOffset LastCheckpoint, long Total, ActiveStep? Step, long ActiveSteps);

    private sealed record ActiveStep(string StepId, string StepType, string Status, DateTimeOffset? StartedAt, int Attempt, string? WaitEvent, DateTimeOffset? WaitUntil);
}
