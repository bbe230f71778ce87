using Npgsql;

namespace Orchestrator.Core.Tests.Monitoring;

/// <summary>Runs and steps written straight into <c>workflow_states</c> / <c>workflow_steps</c>, with the times a test needs.</summary>
internal static class WorkflowRows
{
    public static async Task RunAsync(
        NpgsqlDataSource source, string id, string status, DateTimeOffset createdAt, DateTimeOffset? lastCheckpoint = null,
        DateTimeOffset? completedAt = null, string? error = null)
    {
        await using var command = source.CreateCommand(
            """
            INSERT INTO workflow_states (id, definition_name, definition_version, definition, status, input, error, created_at, last_checkpoint, completed_at)
            VALUES ($1, 'demo', 1, '{"steps":[]}', $2, '{}', $3, $4, $5, $6)
            """);
        command.Parameters.Add(new NpgsqlParameter { Value = id });
        command.Parameters.Add(new NpgsqlParameter { Value = status });
        command.Parameters.Add(new NpgsqlParameter { Value = (object?)error ?? DBNull.Value, NpgsqlDbType = NpgsqlTypes.NpgsqlDbType.Text });
        command.Parameters.Add(new NpgsqlParameter { Value = createdAt });
        command.Parameters.Add(new NpgsqlParameter { Value = (object?)lastCheckpoint ?? DBNull.Value, NpgsqlDbType = NpgsqlTypes.NpgsqlDbType.TimestampTz });
        command.Parameters.Add(new NpgsqlParameter { Value = (object?)completedAt ?? DBNull.Value, NpgsqlDbType = NpgsqlTypes.NpgsqlDbType.TimestampTz });
        await command.ExecuteNonQueryAsync();
    }

    public static async Task StepAsync(
        NpgsqlDataSource source, string runId, string stepId, string type, string status, DateTimeOffset startedAt, int attempt = 1,
        string? waitEvent = null, DateTimeOffset? waitUntil = null)
    {
        await using var command = source.CreateCommand(
            """
            INSERT INTO workflow_steps (run_id, step_id, step_type, status, started_at, attempt, wait_event, wait_until)
            VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
            """);
        command.Parameters.Add(new NpgsqlParameter { Value = runId });
        command.Parameters.Add(new NpgsqlParameter { Value = stepId });
        command.Parameters.Add(new NpgsqlParameter { Value = type });
        command.Parameters.Add(new NpgsqlParameter { Value = status });
        command.Parameters.Add(new NpgsqlParameter { Value = startedAt });
        command.Parameters.Add(new NpgsqlParameter { Value = attempt });
        command.Parameters.Add(new NpgsqlParameter { Value = (object?)waitEvent ?? DBNull.Value, NpgsqlDbType = NpgsqlTypes.NpgsqlDbType.Text });
        command.Parameters.Add(new NpgsqlParameter { Value = (object?)waitUntil ?? DBNull.Value, NpgsqlDbType = NpgsqlTypes.NpgsqlDbType.TimestampTz });
        await command.ExecuteNonQueryAsync();
    }
}
