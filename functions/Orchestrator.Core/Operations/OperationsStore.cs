using System.Text.Json;
using Npgsql;
using NpgsqlTypes;
using Orchestrator.Core.Llm.Breakers;
using Orchestrator.Core.Persistence;

namespace Orchestrator.Core.Operations;

/// <summary>
/// All SQL over <c>settings</c>, <c>circuit_breakers</c> and <c>admin_audit</c>. Every change is written together
/// with its audit row, in one transaction, and repeating a change leaves the state as it was.
/// </summary>
public sealed class OperationsStore(NpgsqlDataSource dataSource, TimeProvider time)
{
    private const string MaintenanceKey = "maintenance";

    public async Task<MaintenanceState> GetMaintenanceAsync(CancellationToken cancellationToken)
    {
        await using var command = dataSource.CreateCommand("SELECT value::text, updated_by FROM settings WHERE key = @key");
        command.Parameters.AddWithValue("key", MaintenanceKey);
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        return await reader.ReadAsync(cancellationToken) ? ReadMaintenance(reader.GetString(0), reader.IsDBNull(1) ? null : reader.GetString(1)) : MaintenanceState.Off;
    }

    /// <summary>Switches maintenance mode on or off; a switch to the state it is already in changes nothing but is audited.</summary>
    public async Task<AdminChange<MaintenanceState>> SetMaintenanceAsync(bool enabled, string? reason, string actor, CancellationToken cancellationToken)
    {
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken);

        // Serialise concurrent switches (the row may not exist yet, so lock on a key rather than on the row).
        await using (var lockCommand = new NpgsqlCommand("SELECT pg_advisory_xact_lock(hashtext('settings:' || @key))", connection, transaction))
        {
            lockCommand.Parameters.AddWithValue("key", MaintenanceKey);
            await lockCommand.ExecuteNonQueryAsync(cancellationToken);
        }

        var current = MaintenanceState.Off;
        await using (var read = new NpgsqlCommand("SELECT value::text, updated_by FROM settings WHERE key = @key", connection, transaction))
        {
            read.Parameters.AddWithValue("key", MaintenanceKey);
            await using var reader = await read.ExecuteReaderAsync(cancellationToken);
            if (await reader.ReadAsync(cancellationToken))
            {
                current = ReadMaintenance(reader.GetString(0), reader.IsDBNull(1) ? null : reader.GetString(1));
            }
        }

        var changed = current.Enabled != enabled;
        var state = current;
        if (changed)
        {
            state = new MaintenanceState(enabled, time.GetUtcNow(), reason, actor);
            await using var upsert = new NpgsqlCommand(
                """
                INSERT INTO settings (key, value, updated_at, updated_by) VALUES (@key, @value::jsonb, now(), @actor)
                ON CONFLICT (key) DO UPDATE SET value = EXCLUDED.value, updated_at = now(), updated_by = EXCLUDED.updated_by
                """, connection, transaction);
            upsert.Parameters.AddWithValue("key", MaintenanceKey);
            upsert.Parameters.AddWithValue("value", JsonSerializer.Serialize(new { enabled = state.Enabled, since = state.Since, reason = state.Reason }));
            upsert.Parameters.AddWithValue("actor", actor);
            await upsert.ExecuteNonQueryAsync(cancellationToken);
        }

        await AuditAsync(connection, transaction, actor, enabled ? "maintenance.enable" : "maintenance.disable", MaintenanceKey, changed,
            JsonSerializer.Serialize(new { reason, wasEnabled = current.Enabled }), cancellationToken);
        await transaction.CommitAsync(cancellationToken);
        return new AdminChange<MaintenanceState>(state, changed);
    }

    /// <summary>Closes the named breakers for every instance (all of them when <paramref name="name"/> is null), audited; their new rows.</summary>
    internal async Task<IReadOnlyList<BreakerRow>> RequestBreakerResetAsync(
        string? name, IEnumerable<string> knownHere, string actor, string detailJson, CancellationToken cancellationToken)
    {
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
        await CircuitBreakerStore.RegisterAsync(connection, transaction, knownHere, cancellationToken);

        var reset = await CircuitBreakerStore.ResetAsync(connection, transaction, name, actor, cancellationToken);
        await AuditAsync(connection, transaction, actor, "circuit-breaker.reset", name ?? "*", reset.Count > 0, detailJson, cancellationToken);
        await transaction.CommitAsync(cancellationToken);
        return reset;
    }

    public async Task<IReadOnlyList<AuditEntry>> GetAuditAsync(int limit, CancellationToken cancellationToken)
    {
        await using var command = dataSource.CreateCommand(
            "SELECT id, at, actor, action, target, changed, detail::text FROM admin_audit ORDER BY id DESC LIMIT @limit");
        command.Parameters.AddWithValue("limit", limit);
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        var entries = new List<AuditEntry>();
        while (await reader.ReadAsync(cancellationToken))
        {
            entries.Add(new AuditEntry(reader.GetInt64(0), reader.GetFieldValue<DateTimeOffset>(1), reader.GetString(2), reader.GetString(3),
                reader.IsDBNull(4) ? null : reader.GetString(4), reader.GetBoolean(5), reader.IsDBNull(6) ? null : reader.GetString(6)));
        }

        return entries;
    }

    private static async Task AuditAsync(
        NpgsqlConnection connection, NpgsqlTransaction transaction, string actor, string action, string? target, bool changed, string? detailJson, CancellationToken cancellationToken)
    {
        await using var audit = new NpgsqlCommand(
            "INSERT INTO admin_audit (actor, action, target, changed, detail) VALUES (@actor, @action, @target, @changed, @detail::jsonb)", connection, transaction);
        audit.Parameters.AddWithValue("actor", actor);
        audit.Parameters.AddWithValue("action", action);
        audit.Parameters.AddNullable("target", NpgsqlDbType.Text, target);
        audit.Parameters.AddWithValue("changed", changed);
        audit.Parameters.AddNullable("detail", NpgsqlDbType.Text, detailJson);
        await audit.ExecuteNonQueryAsync(cancellationToken);
    }

    private static MaintenanceState ReadMaintenance(string json, string? by)
    {
        using var document = JsonDocument.Parse(json);
        var root = document.RootElement;
        var enabled = root.TryGetProperty("enabled", out var e) && e.ValueKind == JsonValueKind.True;
        DateTimeOffset? since = root.TryGetProperty("since", out var s) && s.ValueKind == JsonValueKind.String ? s.GetDateTimeOffset() : null;
        var reason = root.TryGetProperty("reason", out var r) && r.ValueKind == JsonValueKind.String ? r.GetString() : null;
        return new MaintenanceState(enabled, since, reason, by);
    }

    /// <summary>
    /// When <c>scripts/restore.sh</c> has marked the database restored (the <c>database_restored</c> setting) since
    /// <paramref name="taskHub"/> last caught up with a restore, records that it is catching up now and returns the
    /// restore's time; otherwise null. Only one instance of a task hub gets a given restore.
    /// </summary>
    public async Task<string?> ClaimRestoreResyncAsync(string taskHub, CancellationToken cancellationToken)
    {
        await using var command = dataSource.CreateCommand(
            """
            INSERT INTO settings (key, value, updated_by)
            SELECT 'restore_resynced:' || @hub, jsonb_build_object('at', value->>'at'), 'reconciler'
              FROM settings WHERE key = 'database_restored'
            ON CONFLICT (key) DO UPDATE SET value = EXCLUDED.value, updated_at = now()
             WHERE settings.value->>'at' IS DISTINCT FROM EXCLUDED.value->>'at'
            RETURNING value->>'at'
            """);
        command.Parameters.AddWithValue("hub", taskHub);
        return await command.ExecuteScalarAsync(cancellationToken) as string;
    }
}
