using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Npgsql;
using NpgsqlTypes;
using Orchestrator.Core.Monitoring;

namespace Orchestrator.Core.Incidents;

/// <summary>
/// Turns check readings into incidents and notices: damping (a condition must hold for a while before an incident
/// opens and stay clear before it resolves), one unresolved incident per dedup key, updates every 15 minutes while
/// P0/P1, escalation at 80 % of the RTO, resolution with its duration. Every change and the notices it calls for are
/// written in one transaction, so the ledger is the single record of what must be sent; times come from
/// <see cref="TimeProvider"/>.
/// </summary>
public sealed class IncidentEngine(
    [FromKeyedServices(MonitoringExtensions.DataSourceKey)] NpgsqlDataSource dataSource,
    IOptions<MonitorsOptions> monitors,
    IOptions<NoticeOptions> notices,
    IOptions<NoticeTemplates> templates,
    TimeProvider time,
    ILogger<IncidentEngine> logger,
    IEnumerable<INoticeSignal> signals)
{
    public const string MonitorActor = "monitor";

    private static readonly JsonSerializerOptions Json = JsonSerializerOptions.Web;

    /// <summary>Applies one run of <paramref name="check"/>: its readings, then the time-driven updates and escalations of its open incidents.</summary>
    public async Task ApplyAsync(IMonitorCheck check, IReadOnlyList<ConditionReading> readings, CancellationToken cancellationToken)
    {
        var wrote = false;
        foreach (var reading in readings)
        {
            wrote |= await ApplyReadingAsync(check, reading, cancellationToken);
        }

        wrote |= await ApplyClockAsync(check.Name, cancellationToken);
        if (wrote)
        {
            Signal();
        }
    }

    /// <summary>Marks an unresolved incident acknowledged by <paramref name="actor"/>.</summary>
    public async Task<IncidentChange> AcknowledgeAsync(Guid id, string actor, CancellationToken cancellationToken)
    {
        var now = time.GetUtcNow();
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
        var incident = await LockIncidentAsync(connection, "id = $1", id, cancellationToken);
        if (incident is null)
        {
            return IncidentChange.NotFound;
        }

        if (incident.Status != IncidentStatus.Open)
        {
            return IncidentChange.AlreadyDone;
        }

        await using (var update = new NpgsqlCommand(
            "UPDATE incidents SET status = 'acknowledged', acknowledged_at = $2, acknowledged_by = $3 WHERE id = $1", connection))
        {
            update.Parameters.Add(new NpgsqlParameter { Value = id });
            update.Parameters.Add(new NpgsqlParameter { Value = now });
            update.Parameters.Add(new NpgsqlParameter { Value = actor });
            await update.ExecuteNonQueryAsync(cancellationToken);
        }

        await AddEventAsync(connection, id, now, "acknowledged", actor, null, cancellationToken);
        await transaction.CommitAsync(cancellationToken);
        Log.IncidentAcknowledged(logger, id, incident.DedupKey, actor);
        return IncidentChange.Changed;
    }

    /// <summary>Resolves an incident by hand (a RESOLVED notice says who); the condition's episode starts over.</summary>
    public async Task<IncidentChange> ResolveAsync(Guid id, string actor, string? resolution, CancellationToken cancellationToken)
    {
        var now = time.GetUtcNow();
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
        var incident = await LockIncidentAsync(connection, "id = $1", id, cancellationToken);
        if (incident is null)
        {
            return IncidentChange.NotFound;
        }

        if (incident.Status == IncidentStatus.Resolved)
        {
            return IncidentChange.AlreadyDone;
        }

        await ResolveAsync(connection, incident, now, actor, resolution ?? $"resolved by hand by {actor}", cancellationToken);
        await using (var reset = new NpgsqlCommand(
            "UPDATE monitor_conditions SET pending_since = NULL, clear_since = NULL, clear_checks = 0 WHERE dedup_key = $1", connection))
        {
            reset.Parameters.Add(new NpgsqlParameter { Value = incident.DedupKey });
            await reset.ExecuteNonQueryAsync(cancellationToken);
        }

        await transaction.CommitAsync(cancellationToken);
        Signal();
        return IncidentChange.Changed;
    }

    /// <summary>
    /// An incident seen while PostgreSQL cannot be reached (the primary check's own condition): composed in memory so
    /// its detected notice can go out directly; <see cref="RecordOfflineAsync"/> writes it once the database answers.
    /// </summary>
    public OfflineIncident StartOffline(IMonitorCheck check, ConditionReading reading, DateTimeOffset startedAt)
    {
        var now = time.GetUtcNow();
        var row = NewIncident(check, reading, startedAt, now);
        Log.IncidentOpenedOffline(logger, row.Id, reading.DedupKey, reading.Severity.ToString(), reading.Title);
        return new OfflineIncident(row, Compose(row, NoticeKind.Detected, 0, now, null, null), notices.Value.ChannelsFor(reading.Severity, NoticeKind.Detected));
    }

    /// <summary>
    /// Writes an incident opened while the database was away, with its detected notice marked sent on the channels
    /// that took it directly (the others get it through the ledger now), and carries its condition's episode on.
    /// Nothing is written when an incident for the key was recorded meanwhile.
    /// </summary>
    public async Task RecordOfflineAsync(OfflineIncident offline, IReadOnlyCollection<string> delivered, CancellationToken cancellationToken)
    {
        var incident = offline.Incident;
        var now = time.GetUtcNow();
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
        await LockConditionAsync(connection, incident.CheckName, incident.DedupKey, now, cancellationToken);
        await using (var episode = new NpgsqlCommand(
            """
            UPDATE monitor_conditions SET firing = true, pending_since = LEAST(COALESCE(pending_since, $2), $2), last_firing_at = $3,
                                          clear_since = NULL, clear_checks = 0
            WHERE dedup_key = $1
            """, connection))
        {
            episode.Parameters.Add(new NpgsqlParameter { Value = incident.DedupKey });
            episode.Parameters.Add(new NpgsqlParameter { Value = incident.StartedAt });
            episode.Parameters.Add(new NpgsqlParameter { Value = now });
            await episode.ExecuteNonQueryAsync(cancellationToken);
        }

        if (!await InsertIncidentAsync(connection, incident, now, cancellationToken))
        {
            await transaction.CommitAsync(cancellationToken);
            return;
        }

        await AddEventAsync(connection, incident.Id, incident.OpenedAt, "opened", MonitorActor, new { incident.Title, incident.Summary, recordedAt = now, offline = true }, cancellationToken);
        var json = JsonSerializer.Serialize(offline.Detected, Json);
        foreach (var channel in offline.Channels)
        {
            var sent = delivered.Contains(channel);
            await using var notice = new NpgsqlCommand(
                """
                INSERT INTO incident_notices (incident_id, kind, sequence, channel, content, created_at, next_attempt_at, status, sent_at, attempts)
                VALUES ($1, 'detected', 0, $2, $3, $4, $5, $6, $7, $8)
                ON CONFLICT (incident_id, kind, sequence, channel) DO NOTHING
                """, connection);
            notice.Parameters.Add(new NpgsqlParameter { Value = incident.Id });
            notice.Parameters.Add(new NpgsqlParameter { Value = channel });
            notice.Parameters.Add(new NpgsqlParameter { Value = json, NpgsqlDbType = NpgsqlDbType.Jsonb });
            notice.Parameters.Add(new NpgsqlParameter { Value = incident.OpenedAt });
            notice.Parameters.Add(new NpgsqlParameter { Value = now });
            notice.Parameters.Add(new NpgsqlParameter { Value = sent ? "sent" : "pending" });
            notice.Parameters.Add(new NpgsqlParameter { Value = sent ? incident.OpenedAt : DBNull.Value, NpgsqlDbType = NpgsqlDbType.TimestampTz });
            notice.Parameters.Add(new NpgsqlParameter { Value = sent ? 1 : 0 });
            await notice.ExecuteNonQueryAsync(cancellationToken);
        }

        await transaction.CommitAsync(cancellationToken);
        if (delivered.Count < offline.Channels.Count)
        {
            Signal();
        }
    }

    private async Task<bool> ApplyReadingAsync(IMonitorCheck check, ConditionReading reading, CancellationToken cancellationToken)
    {
        var now = time.GetUtcNow();
        var options = check.Options;
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
        var state = await LockConditionAsync(connection, check.Name, reading.DedupKey, now, cancellationToken);

        if (reading.Firing)
        {
            state = state with { PendingSince = state.PendingSince ?? now, LastFiringAt = now, ClearSince = null, ClearChecks = 0 };
        }
        else if (state.PendingSince is not null)
        {
            state = state with { ClearSince = state.ClearSince ?? now, ClearChecks = state.ClearChecks + 1 };
        }

        // Clear long enough and for enough checks in a row: the episode is over (a firing reading within it would have
        // kept it going, which is what keeps a flapping condition to one incident).
        var episodeOver = !reading.Firing && state.PendingSince is not null
            && state.ClearChecks >= options.ClearChecks && now - state.ClearSince >= options.ClearFor;
        var pendingSince = state.PendingSince;
        if (episodeOver)
        {
            state = state with { PendingSince = null, ClearSince = null, ClearChecks = 0 };
        }

        await SaveConditionAsync(connection, reading, state, now, cancellationToken);

        var wrote = false;
        var incident = await LockIncidentAsync(connection, "dedup_key = $1 AND status <> 'resolved'", reading.DedupKey, cancellationToken);
        if (incident is null)
        {
            if (reading.Firing && pendingSince is { } since && now - since >= options.For)
            {
                wrote = await OpenAsync(connection, check, reading, since, now, cancellationToken);
            }
        }
        else if (reading.Firing)
        {
            await RefreshAsync(connection, incident.Id, reading, now, cancellationToken);
        }
        else if (episodeOver)
        {
            var fix = $"condition clear for {DurationWords.Of(now - state.LastFiringAt.GetValueOrDefault(now))} ({options.ClearChecks}+ checks in a row)";
            await ResolveAsync(connection, incident, now, MonitorActor, fix, cancellationToken);
            wrote = true;
        }

        await transaction.CommitAsync(cancellationToken);
        return wrote;
    }

    /// <summary>The P0/P1 update cadence and the escalation at <see cref="MonitorsOptions.EscalateAt"/> of the RTO, for each unresolved incident of a check.</summary>
    private async Task<bool> ApplyClockAsync(string checkName, CancellationToken cancellationToken)
    {
        var settings = monitors.Value;
        var wrote = false;
        List<Guid> ids = [];
        await using (var list = dataSource.CreateCommand("SELECT id FROM incidents WHERE check_name = $1 AND status <> 'resolved' ORDER BY opened_at"))
        {
            list.Parameters.Add(new NpgsqlParameter { Value = checkName });
            await using var reader = await list.ExecuteReaderAsync(cancellationToken);
            while (await reader.ReadAsync(cancellationToken))
            {
                ids.Add(reader.GetGuid(0));
            }
        }

        foreach (var id in ids)
        {
            var now = time.GetUtcNow();
            await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
            await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
            var incident = await LockIncidentAsync(connection, "id = $1 AND status <> 'resolved'", id, cancellationToken);
            if (incident is null)
            {
                continue;
            }

            var changed = false;
            if (incident.Severity is Severity.P0 or Severity.P1 && now - incident.LastNoticeAt >= settings.UpdateInterval)
            {
                var sequence = incident.UpdatesSent + 1;
                await using (var update = new NpgsqlCommand("UPDATE incidents SET updates_sent = $2, last_notice_at = $3 WHERE id = $1", connection))
                {
                    update.Parameters.Add(new NpgsqlParameter { Value = id });
                    update.Parameters.Add(new NpgsqlParameter { Value = sequence });
                    update.Parameters.Add(new NpgsqlParameter { Value = now });
                    await update.ExecuteNonQueryAsync(cancellationToken);
                }

                await AddEventAsync(connection, id, now, "updated", MonitorActor, new { sequence }, cancellationToken);
                await AddNoticesAsync(connection, incident, NoticeKind.Update, sequence, now, null, null, cancellationToken);
                Log.IncidentUpdateDue(logger, id, incident.DedupKey, sequence);
                changed = true;
            }

            var escalateAfter = incident.Rto * settings.EscalateAt;
            if (incident.EscalatedAt is null && now - incident.StartedAt >= escalateAfter)
            {
                await using (var update = new NpgsqlCommand("UPDATE incidents SET escalated_at = $2 WHERE id = $1", connection))
                {
                    update.Parameters.Add(new NpgsqlParameter { Value = id });
                    update.Parameters.Add(new NpgsqlParameter { Value = now });
                    await update.ExecuteNonQueryAsync(cancellationToken);
                }

                await AddEventAsync(connection, id, now, "escalated", MonitorActor, new { rtoSeconds = (int)incident.Rto.TotalSeconds, atFraction = settings.EscalateAt }, cancellationToken);
                await AddNoticesAsync(connection, incident, NoticeKind.Escalation, 0, now, null, null, cancellationToken);
                Log.IncidentEscalated(logger, id, incident.DedupKey, DurationWords.Of(now - incident.StartedAt), DurationWords.Of(incident.Rto));
                changed = true;
            }

            await transaction.CommitAsync(cancellationToken);
            wrote |= changed;
        }

        return wrote;
    }

    private async Task<bool> OpenAsync(
        NpgsqlConnection connection, IMonitorCheck check, ConditionReading reading, DateTimeOffset startedAt, DateTimeOffset now, CancellationToken cancellationToken)
    {
        var opened = NewIncident(check, reading, startedAt, now);
        var id = opened.Id;
        if (!await InsertIncidentAsync(connection, opened, now, cancellationToken))
        {
            return false;
        }

        var incident = await LockIncidentAsync(connection, "id = $1", id, cancellationToken)
            ?? throw new InvalidOperationException($"incident {id} vanished inside its own transaction");
        await AddEventAsync(connection, id, now, "opened", MonitorActor, new { reading.Title, reading.Summary }, cancellationToken);
        await AddNoticesAsync(connection, incident, NoticeKind.Detected, 0, now, null, null, cancellationToken);
        Log.IncidentOpened(logger, id, reading.DedupKey, reading.Severity.ToString(), reading.Title);
        return true;
    }

    private static IncidentRow NewIncident(IMonitorCheck check, ConditionReading reading, DateTimeOffset startedAt, DateTimeOffset now) => new(
        Guid.CreateVersion7(now), reading.DedupKey, check.Name, reading.Severity, IncidentStatus.Open, reading.Title, reading.Impact,
        reading.Summary, reading.NextStep, reading.Facts, TimeSpan.FromSeconds(Math.Ceiling(check.Options.Rto.TotalSeconds)), startedAt, now, now, 0, null, null);

    /// <summary>Inserts an open incident; false when one is already unresolved for its key.</summary>
    private static async Task<bool> InsertIncidentAsync(NpgsqlConnection connection, IncidentRow incident, DateTimeOffset lastSeenAt, CancellationToken cancellationToken)
    {
        await using var insert = new NpgsqlCommand(
            """
            INSERT INTO incidents (id, dedup_key, check_name, severity, status, title, impact, summary, next_step, facts, rto_seconds,
                                   started_at, opened_at, last_seen_at, last_notice_at)
            VALUES ($1, $2, $3, $4, 'open', $5, $6, $7, $8, $9, $10, $11, $12, $13, $12)
            ON CONFLICT (dedup_key) WHERE status <> 'resolved' DO NOTHING
            """, connection);
        insert.Parameters.Add(new NpgsqlParameter { Value = incident.Id });
        insert.Parameters.Add(new NpgsqlParameter { Value = incident.DedupKey });
        insert.Parameters.Add(new NpgsqlParameter { Value = incident.CheckName });
        insert.Parameters.Add(new NpgsqlParameter { Value = incident.Severity.ToString() });
        insert.Parameters.Add(new NpgsqlParameter { Value = incident.Title });
        insert.Parameters.Add(new NpgsqlParameter { Value = incident.Impact });
        insert.Parameters.Add(new NpgsqlParameter { Value = incident.Summary });
        insert.Parameters.Add(new NpgsqlParameter { Value = incident.NextStep });
        insert.Parameters.Add(new NpgsqlParameter { Value = FactsJson(incident.Facts), NpgsqlDbType = NpgsqlDbType.Jsonb });
        insert.Parameters.Add(new NpgsqlParameter { Value = (int)incident.Rto.TotalSeconds });
        insert.Parameters.Add(new NpgsqlParameter { Value = incident.StartedAt });
        insert.Parameters.Add(new NpgsqlParameter { Value = incident.OpenedAt });
        insert.Parameters.Add(new NpgsqlParameter { Value = lastSeenAt });
        return await insert.ExecuteNonQueryAsync(cancellationToken) == 1;
    }

    private static async Task RefreshAsync(NpgsqlConnection connection, Guid id, ConditionReading reading, DateTimeOffset now, CancellationToken cancellationToken)
    {
        await using var update = new NpgsqlCommand(
            "UPDATE incidents SET last_seen_at = $2, title = $3, impact = $4, summary = $5, next_step = $6, facts = $7 WHERE id = $1", connection);
        update.Parameters.Add(new NpgsqlParameter { Value = id });
        update.Parameters.Add(new NpgsqlParameter { Value = now });
        update.Parameters.Add(new NpgsqlParameter { Value = reading.Title });
        update.Parameters.Add(new NpgsqlParameter { Value = reading.Impact });
        update.Parameters.Add(new NpgsqlParameter { Value = reading.Summary });
        update.Parameters.Add(new NpgsqlParameter { Value = reading.NextStep });
        update.Parameters.Add(new NpgsqlParameter { Value = FactsJson(reading.Facts), NpgsqlDbType = NpgsqlDbType.Jsonb });
        await update.ExecuteNonQueryAsync(cancellationToken);
    }

    private async Task ResolveAsync(
        NpgsqlConnection connection, IncidentRow incident, DateTimeOffset now, string actor, string resolution, CancellationToken cancellationToken)
    {
        await using (var update = new NpgsqlCommand(
            "UPDATE incidents SET status = 'resolved', resolved_at = $2, resolved_by = $3, resolution = $4 WHERE id = $1", connection))
        {
            update.Parameters.Add(new NpgsqlParameter { Value = incident.Id });
            update.Parameters.Add(new NpgsqlParameter { Value = now });
            update.Parameters.Add(new NpgsqlParameter { Value = actor });
            update.Parameters.Add(new NpgsqlParameter { Value = resolution });
            await update.ExecuteNonQueryAsync(cancellationToken);
        }

        await AddEventAsync(connection, incident.Id, now, "resolved", actor, new { resolution, durationSeconds = (int)(now - incident.StartedAt).TotalSeconds }, cancellationToken);
        await AddNoticesAsync(connection, incident with { Status = IncidentStatus.Resolved }, NoticeKind.Resolved, 0, now, resolution, actor, cancellationToken);
        Log.IncidentResolved(logger, incident.Id, incident.DedupKey, DurationWords.Of(now - incident.StartedAt), actor);
    }

    /// <summary>Writes one ledger row per channel that hears about this kind of notice at this severity; a second write of the same notice is a no-op.</summary>
    private async Task AddNoticesAsync(
        NpgsqlConnection connection, IncidentRow incident, string kind, int sequence, DateTimeOffset now, string? fix, string? resolvedBy, CancellationToken cancellationToken)
    {
        var channels = notices.Value.ChannelsFor(incident.Severity, kind);
        if (channels.Count == 0)
        {
            return;
        }

        var content = Compose(incident, kind, sequence, now, fix, resolvedBy);
        var json = JsonSerializer.Serialize(content, Json);
        foreach (var channel in channels)
        {
            await using var insert = new NpgsqlCommand(
                """
                INSERT INTO incident_notices (incident_id, kind, sequence, channel, content, created_at, next_attempt_at)
                VALUES ($1, $2, $3, $4, $5, $6, $6)
                ON CONFLICT (incident_id, kind, sequence, channel) DO NOTHING
                """, connection);
            insert.Parameters.Add(new NpgsqlParameter { Value = incident.Id });
            insert.Parameters.Add(new NpgsqlParameter { Value = kind });
            insert.Parameters.Add(new NpgsqlParameter { Value = sequence });
            insert.Parameters.Add(new NpgsqlParameter { Value = channel });
            insert.Parameters.Add(new NpgsqlParameter { Value = json, NpgsqlDbType = NpgsqlDbType.Jsonb });
            insert.Parameters.Add(new NpgsqlParameter { Value = now });
            await insert.ExecuteNonQueryAsync(cancellationToken);
        }
    }

    /// <summary>The notice's fields and the runbook template rendered with them.</summary>
    internal NoticeContent Compose(IncidentRow incident, string kind, int sequence, DateTimeOffset now, string? fix, string? resolvedBy)
    {
        var settings = monitors.Value;
        var duration = now - incident.StartedAt;
        var rtoDue = incident.StartedAt + incident.Rto;
        var status = kind == NoticeKind.Resolved
            ? $"Resolved by {resolvedBy ?? MonitorActor}"
            : incident.Status == IncidentStatus.Acknowledged ? $"Acknowledged by {incident.AcknowledgedBy}" : "Open, investigating";
        var rto = $"RTO target {DurationWords.Of(incident.Rto)} (by {rtoDue.UtcDateTime:HH:mm} UTC)";
        var eta = incident.Severity is Severity.P0 or Severity.P1 ? $"next update in {DurationWords.Of(settings.UpdateInterval)}; {rto}" : rto;
        var attempted = $"automatic checks since {incident.StartedAt.UtcDateTime:HH:mm:ss} UTC; the condition has held {DurationWords.Of(duration)}, "
            + $"past {settings.EscalateAt:P0} of the {DurationWords.Of(incident.Rto)} RTO; next step below not yet confirmed";
        IReadOnlyList<string> followUp = kind == NoticeKind.Resolved
            ?
            [
                "Verify the system stays stable for 30 minutes",
                $"Write the incident summary: GET /api/v1/incidents/{incident.Id}/report",
                "Schedule the post-mortem (blameless) and create follow-up tickets",
                "Update the runbook and the monitoring if this was not caught early enough",
            ]
            : [];
        var fields = new NoticeFields(
            incident.Id, incident.Severity.ToString(), incident.Title, incident.Impact, incident.StartedAt, settings.Owner, status,
            incident.Summary, incident.NextStep, eta, now - incident.OpenedAt, duration, attempted,
            kind == NoticeKind.Resolved ? incident.Summary : null, fix, followUp, incident.Facts);
        var text = templates.Value.Render(kind, fields, now);
        var headline = text.Split('\n', 2)[0].Trim();
        return new NoticeContent(
            incident.Id, kind, sequence, incident.CheckName, incident.DedupKey, incident.Severity.ToString(), incident.Title, headline, text,
            incident.Impact, incident.StartedAt, now, status, incident.NextStep, kind == NoticeKind.Resolved ? null : eta, duration,
            fields.RootCause, followUp, incident.Facts);
    }

    private static async Task<ConditionState> LockConditionAsync(
        NpgsqlConnection connection, string checkName, string dedupKey, DateTimeOffset now, CancellationToken cancellationToken)
    {
        await using var command = new NpgsqlCommand(
            """
            INSERT INTO monitor_conditions (dedup_key, check_name, firing, last_checked_at) VALUES (@key, @check, false, @now)
            ON CONFLICT (dedup_key) DO NOTHING;
            SELECT pending_since, last_firing_at, clear_since, clear_checks FROM monitor_conditions WHERE dedup_key = @key FOR UPDATE;
            """, connection);
        command.Parameters.AddWithValue("key", dedupKey);
        command.Parameters.AddWithValue("check", checkName);
        command.Parameters.AddWithValue("now", now);
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        await reader.ReadAsync(cancellationToken);
        return new ConditionState(
            reader.IsDBNull(0) ? null : reader.GetFieldValue<DateTimeOffset>(0),
            reader.IsDBNull(1) ? null : reader.GetFieldValue<DateTimeOffset>(1),
            reader.IsDBNull(2) ? null : reader.GetFieldValue<DateTimeOffset>(2),
            reader.GetInt32(3));
    }

    private static async Task SaveConditionAsync(
        NpgsqlConnection connection, ConditionReading reading, ConditionState state, DateTimeOffset now, CancellationToken cancellationToken)
    {
        await using var update = new NpgsqlCommand(
            """
            UPDATE monitor_conditions SET firing = $2, pending_since = $3, last_firing_at = $4, clear_since = $5, clear_checks = $6,
                                          last_checked_at = $7, last_reading = $8
            WHERE dedup_key = $1
            """, connection);
        update.Parameters.Add(new NpgsqlParameter { Value = reading.DedupKey });
        update.Parameters.Add(new NpgsqlParameter { Value = reading.Firing });
        update.Parameters.Add(new NpgsqlParameter { Value = (object?)state.PendingSince ?? DBNull.Value, NpgsqlDbType = NpgsqlDbType.TimestampTz });
        update.Parameters.Add(new NpgsqlParameter { Value = (object?)state.LastFiringAt ?? DBNull.Value, NpgsqlDbType = NpgsqlDbType.TimestampTz });
        update.Parameters.Add(new NpgsqlParameter { Value = (object?)state.ClearSince ?? DBNull.Value, NpgsqlDbType = NpgsqlDbType.TimestampTz });
        update.Parameters.Add(new NpgsqlParameter { Value = state.ClearChecks });
        update.Parameters.Add(new NpgsqlParameter { Value = now });
        update.Parameters.Add(new NpgsqlParameter
        {
            Value = JsonSerializer.Serialize(new { reading.Firing, reading.Title, facts = reading.Facts.ToDictionary(f => f.Key, f => f.Value) }, Json),
            NpgsqlDbType = NpgsqlDbType.Jsonb,
        });
        await update.ExecuteNonQueryAsync(cancellationToken);
    }

    private static async Task<IncidentRow?> LockIncidentAsync<T>(NpgsqlConnection connection, string where, T key, CancellationToken cancellationToken)
    {
        await using var command = new NpgsqlCommand(
            $"""
            SELECT id, dedup_key, check_name, severity, status, title, impact, summary, next_step, facts::text, rto_seconds,
                   started_at, opened_at, last_notice_at, updates_sent, escalated_at, acknowledged_by
            FROM incidents WHERE {where} FOR UPDATE
            """, connection);
        command.Parameters.Add(new NpgsqlParameter { Value = key });
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        if (!await reader.ReadAsync(cancellationToken))
        {
            return null;
        }

        return new IncidentRow(
            reader.GetGuid(0), reader.GetString(1), reader.GetString(2), Enum.Parse<Severity>(reader.GetString(3)), reader.GetString(4),
            reader.GetString(5), reader.GetString(6), reader.GetString(7), reader.GetString(8), ParseFacts(reader.GetString(9)),
            TimeSpan.FromSeconds(reader.GetInt32(10)), reader.GetFieldValue<DateTimeOffset>(11), reader.GetFieldValue<DateTimeOffset>(12),
            reader.GetFieldValue<DateTimeOffset>(13), reader.GetInt32(14), reader.IsDBNull(15) ? null : reader.GetFieldValue<DateTimeOffset>(15),
            reader.IsDBNull(16) ? null : reader.GetString(16));
    }

    private static async Task AddEventAsync(
        NpgsqlConnection connection, Guid id, DateTimeOffset at, string kind, string actor, object? detail, CancellationToken cancellationToken)
    {
        await using var insert = new NpgsqlCommand("INSERT INTO incident_events (incident_id, at, kind, actor, detail) VALUES ($1, $2, $3, $4, $5)", connection);
        insert.Parameters.Add(new NpgsqlParameter { Value = id });
        insert.Parameters.Add(new NpgsqlParameter { Value = at });
        insert.Parameters.Add(new NpgsqlParameter { Value = kind });
        insert.Parameters.Add(new NpgsqlParameter { Value = actor });
        insert.Parameters.Add(new NpgsqlParameter { Value = detail is null ? DBNull.Value : JsonSerializer.Serialize(detail, Json), NpgsqlDbType = NpgsqlDbType.Jsonb });
        await insert.ExecuteNonQueryAsync(cancellationToken);
    }

    // Facts keep their display order: stored as an array of [name, value] pairs.
    private static string FactsJson(IReadOnlyList<KeyValuePair<string, string>> facts) =>
        JsonSerializer.Serialize(facts.Select(f => new[] { f.Key, f.Value }), Json);

    // Written as [name, value] pairs; an object of name -> value (an older or hand-written row) reads too.
    private static List<KeyValuePair<string, string>> ParseFacts(string json) => System.Text.Json.Nodes.JsonNode.Parse(json) switch
    {
        System.Text.Json.Nodes.JsonArray pairs => pairs
            .OfType<System.Text.Json.Nodes.JsonArray>()
            .Where(p => p.Count == 2)
            .Select(p => KeyValuePair.Create(p[0]?.ToString() ?? "", p[1]?.ToString() ?? ""))
            .ToList(),
        System.Text.Json.Nodes.JsonObject named => named.Select(f => KeyValuePair.Create(f.Key, f.Value?.ToString() ?? "")).ToList(),
        _ => [],
    };

    private void Signal()
    {
        foreach (var signal in signals)
        {
            signal.NoticesWritten();
        }
    }

    private sealed record ConditionState(DateTimeOffset? PendingSince, DateTimeOffset? LastFiringAt, DateTimeOffset? ClearSince, int ClearChecks);
}

/// <summary>An incident opened while the database could not be reached, with its detected notice and the channels it is for.</summary>
public sealed record OfflineIncident(IncidentRow Incident, NoticeContent Detected, IReadOnlyList<string> Channels);

/// <summary>An incident row as the engine locks and changes it.</summary>
public sealed record IncidentRow(
    Guid Id,
    string DedupKey,
    string CheckName,
    Severity Severity,
    string Status,
    string Title,
    string Impact,
    string Summary,
    string NextStep,
    IReadOnlyList<KeyValuePair<string, string>> Facts,
    TimeSpan Rto,
    DateTimeOffset StartedAt,
    DateTimeOffset OpenedAt,
    DateTimeOffset LastNoticeAt,
    int UpdatesSent,
    DateTimeOffset? EscalatedAt,
    string? AcknowledgedBy);

/// <summary>The outcome of an acknowledge or resolve by hand.</summary>
public enum IncidentChange
{
    NotFound,
    Changed,
    AlreadyDone,
}
