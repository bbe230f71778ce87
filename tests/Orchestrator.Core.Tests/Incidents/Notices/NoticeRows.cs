using System.Text.Json;
using Npgsql;
using Orchestrator.Core.Incidents;
using Orchestrator.Core.Incidents.Notices;

namespace Orchestrator.Core.Tests.Incidents.Notices;

/// <summary>The notice ledger written and read with plain SQL, as the incident engine writes it: an incident, then its notices.</summary>
internal static class NoticeRows
{
    public static async Task ClearAsync(NpgsqlDataSource dataSource)
    {
        await using var command = dataSource.CreateCommand("DELETE FROM incidents");
        await command.ExecuteNonQueryAsync();
    }

    public static async Task<Guid> InsertIncidentAsync(NpgsqlDataSource dataSource, DateTimeOffset at, string severity = "P1")
    {
        var id = Guid.NewGuid();
        await using var command = dataSource.CreateCommand(
            """
            INSERT INTO incidents (id, dedup_key, check_name, severity, status, title, impact, summary, next_step, rto_seconds,
                                   started_at, opened_at, last_seen_at, last_notice_at)
            VALUES ($1, 'replica-lag:replica', 'replica-lag', $2, 'open', 'Replica lag', 'Reads may be stale', 'lag over 30 s',
                    'Check the replica', 1800, $3, $3, $3, $3)
            """);
        command.Parameters.Add(new NpgsqlParameter<Guid> { TypedValue = id });
        command.Parameters.Add(new NpgsqlParameter<string> { TypedValue = severity });
        command.Parameters.Add(new NpgsqlParameter<DateTimeOffset> { TypedValue = at });
        await command.ExecuteNonQueryAsync();
        return id;
    }

    /// <summary>A notice whose title and text carry <paramref name="marker"/>, so a test can tell which one a receiver got.</summary>
    public static NoticeContent Content(Guid incidentId, string kind, int sequence, DateTimeOffset at, string marker, string severity = "P1") => new(
        incidentId, kind, sequence, "replica-lag", "replica-lag:replica", severity,
        $"Replica lag {marker}",
        kind == NoticeKind.Resolved ? "✅ INCIDENT RESOLVED" : "🚨 INCIDENT DETECTED 🚨",
        $"🚨 INCIDENT DETECTED 🚨\nSeverity: {severity}\nImpact: Reads may be stale <replica>\nStarted: 12:00 UTC\n{marker}",
        "Reads may be stale", at.AddMinutes(-3), at, "Open", "Check the replica", "next update in 15 min",
        TimeSpan.FromMinutes(3), null, [], [new("Lag", "42 s"), new("Replica", "replica-1")]);

    public static async Task<long> InsertNoticeAsync(NpgsqlDataSource dataSource, NoticeContent content, string channel, DateTimeOffset createdAt)
    {
        await using var command = dataSource.CreateCommand(
            """
            INSERT INTO incident_notices (incident_id, kind, sequence, channel, content, created_at, next_attempt_at)
            VALUES ($1, $2, $3, $4, $5::jsonb, $6, $6) RETURNING id
            """);
        command.Parameters.Add(new NpgsqlParameter<Guid> { TypedValue = content.IncidentId });
        command.Parameters.Add(new NpgsqlParameter<string> { TypedValue = content.Kind });
        command.Parameters.Add(new NpgsqlParameter<int> { TypedValue = content.Sequence });
        command.Parameters.Add(new NpgsqlParameter<string> { TypedValue = channel });
        command.Parameters.Add(new NpgsqlParameter<string> { TypedValue = JsonSerializer.Serialize(content, NoticeJson.Options) });
        command.Parameters.Add(new NpgsqlParameter<DateTimeOffset> { TypedValue = createdAt });
        return (long)(await command.ExecuteScalarAsync())!;
    }

    public static async Task<NoticeRow> ReadAsync(NpgsqlDataSource dataSource, long id)
    {
        await using var command = dataSource.CreateCommand(
            "SELECT status, attempts, next_attempt_at, last_status_code, last_error, sent_at, claimed_by FROM incident_notices WHERE id = $1");
        command.Parameters.Add(new NpgsqlParameter<long> { TypedValue = id });
        await using var reader = await command.ExecuteReaderAsync();
        Assert.True(await reader.ReadAsync(), $"notice {id} is in the ledger");
        return new NoticeRow(
            reader.GetString(0), reader.GetInt32(1), reader.GetFieldValue<DateTimeOffset>(2),
            reader.IsDBNull(3) ? null : reader.GetInt32(3), reader.IsDBNull(4) ? null : reader.GetString(4),
            reader.IsDBNull(5) ? null : reader.GetFieldValue<DateTimeOffset>(5), reader.IsDBNull(6) ? null : reader.GetString(6));
    }

    /// <summary>Sets a notice's status and last attempt by hand (for the health check's cases).</summary>
    public static async Task SetAsync(NpgsqlDataSource dataSource, long id, string status, int? statusCode, DateTimeOffset lastAttemptAt)
    {
        await using var command = dataSource.CreateCommand("UPDATE incident_notices SET status = $2, last_status_code = $3, last_attempt_at = $4 WHERE id = $1");
        command.Parameters.Add(new NpgsqlParameter<long> { TypedValue = id });
        command.Parameters.Add(new NpgsqlParameter<string> { TypedValue = status });
        command.Parameters.Add(new NpgsqlParameter { Value = (object?)statusCode ?? DBNull.Value, NpgsqlDbType = NpgsqlTypes.NpgsqlDbType.Integer });
        command.Parameters.Add(new NpgsqlParameter<DateTimeOffset> { TypedValue = lastAttemptAt });
        await command.ExecuteNonQueryAsync();
    }
}

internal sealed record NoticeRow(string Status, int Attempts, DateTimeOffset NextAttemptAt, int? LastStatusCode, string? LastError, DateTimeOffset? SentAt, string? ClaimedBy);
