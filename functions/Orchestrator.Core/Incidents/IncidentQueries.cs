using Npgsql;
using NpgsqlTypes;
using Orchestrator.Core.Persistence;

namespace Orchestrator.Core.Incidents;

/// <summary>
/// The read side of incidents for the API: the list (newest first, keyset-paginated), one incident with its timeline,
/// the impact on workflow runs over its window, and the Markdown summary built from them. Reads the primary, so an
/// acknowledgement shows in the next read.
/// </summary>
public sealed class IncidentQueries(NpgsqlDataSource dataSource, TimeProvider time)
{
    private const string Columns =
        """
        id, dedup_key, check_name, severity, status, title, impact, summary, next_step, facts::text, rto_seconds,
        started_at, opened_at, last_seen_at, last_notice_at, updates_sent, escalated_at, acknowledged_at, acknowledged_by,
        resolved_at, resolved_by, resolution
        """;

    /// <summary>Up to <see cref="IncidentListQuery.Limit"/> + 1 incidents (the extra one says there is a next page).</summary>
    public async Task<IReadOnlyList<IncidentRecord>> ListAsync(IncidentListQuery query, CancellationToken cancellationToken)
    {
        await using var command = dataSource.CreateCommand(
            $"""
            SELECT {Columns}
              FROM incidents
             WHERE (@severities::text[] IS NULL OR severity = ANY (@severities))
               AND (@statuses::text[] IS NULL OR status = ANY (@statuses))
               AND (@cursor_at::timestamptz IS NULL OR (opened_at, id) < (@cursor_at, @cursor_id))
             ORDER BY opened_at DESC, id DESC
             LIMIT @limit
            """);
        command.Parameters.AddNullable("severities", NpgsqlDbType.Array | NpgsqlDbType.Text, query.Severities?.ToArray());
        command.Parameters.AddNullable("statuses", NpgsqlDbType.Array | NpgsqlDbType.Text, query.Statuses?.ToArray());
        command.Parameters.AddNullable("cursor_at", NpgsqlDbType.TimestampTz, query.After?.OpenedAt.UtcDateTime);
        command.Parameters.AddNullable("cursor_id", NpgsqlDbType.Uuid, query.After?.Id);
        command.Parameters.AddWithValue("limit", query.Limit + 1);
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        var items = new List<IncidentRecord>();
        while (await reader.ReadAsync(cancellationToken))
        {
            items.Add(Read(reader));
        }

        return items;
    }

    /// <summary>The incident with every event and notice, oldest first; null when there is none with <paramref name="id"/>.</summary>
    public async Task<IncidentDetail?> GetAsync(Guid id, CancellationToken cancellationToken)
    {
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        // One snapshot for the three reads, so the timeline matches the incident it is shown with.
        await using var transaction = await connection.BeginTransactionAsync(System.Data.IsolationLevel.RepeatableRead, cancellationToken);
        await using var batch = new NpgsqlBatch(connection, transaction)
        {
            BatchCommands =
            {
                new NpgsqlBatchCommand($"SELECT {Columns} FROM incidents WHERE id = @id") { Parameters = { new("id", id) } },
                new NpgsqlBatchCommand("SELECT id, at, kind, actor, detail::text FROM incident_events WHERE incident_id = @id ORDER BY at, id")
                {
                    Parameters = { new("id", id) },
                },
                new NpgsqlBatchCommand(
                    """
                    SELECT id, channel, kind, sequence, status, attempts, created_at, sent_at, last_status_code, last_error
                      FROM incident_notices WHERE incident_id = @id ORDER BY id
                    """)
                {
                    Parameters = { new("id", id) },
                },
            },
        };
        await using var reader = await batch.ExecuteReaderAsync(cancellationToken);
        if (!await reader.ReadAsync(cancellationToken))
        {
            return null;
        }

        var incident = Read(reader);
        await reader.NextResultAsync(cancellationToken);
        var events = new List<IncidentEventRecord>();
        while (await reader.ReadAsync(cancellationToken))
        {
            events.Add(new IncidentEventRecord(
                reader.GetInt64(0), reader.GetFieldValue<DateTimeOffset>(1), reader.GetString(2), reader.GetString(3), NullableString(reader, 4)));
        }

        await reader.NextResultAsync(cancellationToken);
        var notices = new List<IncidentNoticeRecord>();
        while (await reader.ReadAsync(cancellationToken))
        {
            notices.Add(new IncidentNoticeRecord(
                reader.GetInt64(0), reader.GetString(1), reader.GetString(2), reader.GetInt32(3), reader.GetString(4), reader.GetInt32(5),
                reader.GetFieldValue<DateTimeOffset>(6), NullableTime(reader, 7), reader.IsDBNull(8) ? null : reader.GetInt32(8), NullableString(reader, 9)));
        }

        await reader.DisposeAsync();
        await transaction.CommitAsync(cancellationToken);
        return new IncidentDetail(incident, events, notices);
    }

    /// <summary>
    /// Runs hit by <paramref name="incident"/>, from when its condition started to its resolution (or now): those that
    /// ended failed in that window, and those in flight at some point of it (created before its end, not finished
    /// before its start).
    /// </summary>
    public async Task<IncidentImpact> ImpactAsync(IncidentRecord incident, CancellationToken cancellationToken)
    {
        var from = incident.StartedAt;
        var to = incident.ResolvedAt ?? time.GetUtcNow();
        await using var command = dataSource.CreateCommand(
            """
            SELECT count(*) FILTER (WHERE status = 'Failed' AND updated_at >= @from AND updated_at <= @to),
                   count(*) FILTER (WHERE created_at <= @to
                                      AND (status IN ('Pending', 'Running')
                                           OR COALESCE(completed_at, updated_at) >= @from))
              FROM workflow_states
             WHERE created_at <= @to
            """);
        command.Parameters.AddWithValue("from", from.UtcDateTime);
        command.Parameters.AddWithValue("to", to.UtcDateTime);
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        await reader.ReadAsync(cancellationToken);
        return new IncidentImpact(from, to, reader.GetInt64(0), reader.GetInt64(1));
    }

    /// <summary>The runbook's "Write incident summary" for <paramref name="id"/> in Markdown; null when there is no such incident.</summary>
    public async Task<string?> ReportAsync(Guid id, CancellationToken cancellationToken)
    {
        if (await GetAsync(id, cancellationToken) is not { } detail)
        {
            return null;
        }

        var impact = await ImpactAsync(detail.Incident, cancellationToken);
        return IncidentReport.Render(detail, impact, time.GetUtcNow());
    }

    private static IncidentRecord Read(NpgsqlDataReader reader) => new(
        reader.GetGuid(0), reader.GetString(1), reader.GetString(2), reader.GetString(3), reader.GetString(4), reader.GetString(5),
        reader.GetString(6), reader.GetString(7), reader.GetString(8), reader.GetString(9), reader.GetInt32(10),
        reader.GetFieldValue<DateTimeOffset>(11), reader.GetFieldValue<DateTimeOffset>(12), reader.GetFieldValue<DateTimeOffset>(13),
        reader.GetFieldValue<DateTimeOffset>(14), reader.GetInt32(15), NullableTime(reader, 16), NullableTime(reader, 17),
        NullableString(reader, 18), NullableTime(reader, 19), NullableString(reader, 20), NullableString(reader, 21));

    private static DateTimeOffset? NullableTime(NpgsqlDataReader reader, int ordinal) =>
        reader.IsDBNull(ordinal) ? null : reader.GetFieldValue<DateTimeOffset>(ordinal);

    private static string? NullableString(NpgsqlDataReader reader, int ordinal) => reader.IsDBNull(ordinal) ? null : reader.GetString(ordinal);
}
