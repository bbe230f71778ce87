using Npgsql;
using NpgsqlTypes;

namespace Orchestrator.Core.Tests.Fakes;

/// <summary>Writes incidents, their timeline, notices and workflow runs straight into a database, as the engine and the runs would have.</summary>
public static class IncidentRows
{
    public static readonly DateTimeOffset T0 = new(2026, 3, 2, 14, 32, 0, TimeSpan.Zero);

    /// <summary>An incident opened <paramref name="openedAt"/> (started a minute earlier); resolved when <paramref name="resolvedAt"/> is given.</summary>
    public static async Task<Guid> IncidentAsync(
        NpgsqlDataSource db,
        DateTimeOffset openedAt,
        string severity = "P1",
        string status = "open",
        string? dedupKey = null,
        string title = "Replication lag 41 s on replica",
        string facts = """{"lag": "41 s", "bytes behind": "12 MB"}""",
        DateTimeOffset? resolvedAt = null,
        string? resolvedBy = null,
        string? acknowledgedBy = null,
        string? resolution = null)
    {
        var id = Guid.NewGuid();
        await using var command = db.CreateCommand(
            """
            INSERT INTO incidents (id, dedup_key, check_name, severity, status, title, impact, summary, next_step, facts, rto_seconds,
                                   started_at, opened_at, last_seen_at, last_notice_at, acknowledged_at, acknowledged_by,
                                   resolved_at, resolved_by, resolution)
            VALUES (@id, @key, 'ReplicaLag', @severity, @status, @title, 'Stale reads from the replica; failover would lose data',
                    'The replica has not replayed 12 MB of WAL', 'Check replication status: psql -h primary -c "SELECT * FROM pg_stat_replication;"',
                    @facts::jsonb, 120, @started, @opened, @opened, @opened, @ackAt, @ackBy, @resolvedAt, @resolvedBy, @resolution)
            """);
        command.Parameters.AddWithValue("id", id);
        command.Parameters.AddWithValue("key", dedupKey ?? "replica-lag:" + id.ToString("N")[..8]);
        command.Parameters.AddWithValue("severity", severity);
        command.Parameters.AddWithValue("status", status);
        command.Parameters.AddWithValue("title", title);
        command.Parameters.AddWithValue("facts", facts);
        command.Parameters.AddWithValue("started", (openedAt - TimeSpan.FromMinutes(1)).UtcDateTime);
        command.Parameters.AddWithValue("opened", openedAt.UtcDateTime);
        command.Parameters.Add(new NpgsqlParameter("ackAt", NpgsqlDbType.TimestampTz) { Value = acknowledgedBy is null ? DBNull.Value : (openedAt + TimeSpan.FromMinutes(2)).UtcDateTime });
        command.Parameters.Add(new NpgsqlParameter("ackBy", NpgsqlDbType.Text) { Value = (object?)acknowledgedBy ?? DBNull.Value });
        command.Parameters.Add(new NpgsqlParameter("resolvedAt", NpgsqlDbType.TimestampTz) { Value = resolvedAt is { } r ? r.UtcDateTime : DBNull.Value });
        command.Parameters.Add(new NpgsqlParameter("resolvedBy", NpgsqlDbType.Text) { Value = (object?)resolvedBy ?? DBNull.Value });
        command.Parameters.Add(new NpgsqlParameter("resolution", NpgsqlDbType.Text) { Value = (object?)resolution ?? DBNull.Value });
        await command.ExecuteNonQueryAsync();
        return id;
    }

    public static async Task EventAsync(NpgsqlDataSource db, Guid incident, DateTimeOffset at, string kind, string actor, string? detail = null)
    {
        await using var command = db.CreateCommand("INSERT INTO incident_events (incident_id, at, kind, actor, detail) VALUES (@id, @at, @kind, @actor, @detail::jsonb)");
        command.Parameters.AddWithValue("id", incident);
        command.Parameters.AddWithValue("at", at.UtcDateTime);
        command.Parameters.AddWithValue("kind", kind);
        command.Parameters.AddWithValue("actor", actor);
        command.Parameters.Add(new NpgsqlParameter("detail", NpgsqlDbType.Text) { Value = (object?)detail ?? DBNull.Value });
        await command.ExecuteNonQueryAsync();
    }

    public static async Task NoticeAsync(
        NpgsqlDataSource db, Guid incident, string kind, int sequence, string channel, string status, DateTimeOffset createdAt,
        int attempts = 1, int? lastStatusCode = 200, string? lastError = null)
    {
        await using var command = db.CreateCommand(
            """
            INSERT INTO incident_notices (incident_id, kind, sequence, channel, status, content, created_at, next_attempt_at, attempts,
                                          last_status_code, last_error, sent_at)
            VALUES (@id, @kind, @sequence, @channel, @status, '{}'::jsonb, @at, @at, @attempts, @code, @error, CASE WHEN @status = 'sent' THEN @at END)
            """);
        command.Parameters.AddWithValue("id", incident);
        command.Parameters.AddWithValue("kind", kind);
        command.Parameters.AddWithValue("sequence", sequence);
        command.Parameters.AddWithValue("channel", channel);
        command.Parameters.AddWithValue("status", status);
        command.Parameters.AddWithValue("at", createdAt.UtcDateTime);
        command.Parameters.AddWithValue("attempts", attempts);
        command.Parameters.Add(new NpgsqlParameter("code", NpgsqlDbType.Integer) { Value = (object?)lastStatusCode ?? DBNull.Value });
        command.Parameters.Add(new NpgsqlParameter("error", NpgsqlDbType.Text) { Value = (object?)lastError ?? DBNull.Value });
        await command.ExecuteNonQueryAsync();
    }

    /// <summary>A workflow run created at <paramref name="createdAt"/>, last changed at <paramref name="updatedAt"/>; finished runs completed then.</summary>
    public static async Task RunAsync(NpgsqlDataSource db, string id, string status, DateTimeOffset createdAt, DateTimeOffset updatedAt)
    {
        await using var command = db.CreateCommand(
            """
            INSERT INTO workflow_states (id, definition_name, definition_version, definition, status, input, created_at, updated_at, completed_at)
            VALUES (@id, 'w', 1, '{"steps":[]}', @status, '{}', @created, @updated,
                    CASE WHEN @status IN ('Completed', 'Failed', 'Cancelled') THEN @updated END)
            """);
        command.Parameters.AddWithValue("id", id);
        command.Parameters.AddWithValue("status", status);
        command.Parameters.AddWithValue("created", createdAt.UtcDateTime);
        command.Parameters.AddWithValue("updated", updatedAt.UtcDateTime);
        await command.ExecuteNonQueryAsync();
    }
}
