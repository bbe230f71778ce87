using Npgsql;

namespace Orchestrator.Server.Tests.Infrastructure;

/// <summary>A run's rows in <c>workflow_steps</c>, read straight from PostgreSQL, in step order.</summary>
public static class StoredSteps
{
    public static async Task<List<(string Step, string Status, int Attempt)>> ReadAsync(string database, string runId)
    {
        await using var connection = new NpgsqlConnection(database);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand("SELECT step_id, status, attempt FROM workflow_steps WHERE run_id = @id ORDER BY step_id, iteration", connection);
        command.Parameters.AddWithValue("id", runId);
        await using var reader = await command.ExecuteReaderAsync();
        var rows = new List<(string, string, int)>();
        while (await reader.ReadAsync())
        {
            rows.Add((reader.GetString(0), reader.GetString(1), reader.GetInt32(2)));
        }

        return rows;
    }
}
