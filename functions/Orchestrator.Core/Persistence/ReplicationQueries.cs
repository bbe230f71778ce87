using Npgsql;
using NpgsqlTypes;

namespace Orchestrator.Core.Persistence;

/// <summary>
/// The replication SQL, once, for the metrics (<c>db_replication_lag_seconds</c>), the replica health check and the
/// replica-lag monitor: the standbys as the primary sees them, and the replica as it sees itself.
/// </summary>
internal static class ReplicationQueries
{
    private const string StandbysSql =
        """
        SELECT COALESCE(r.application_name, 'replica'), s.slot_name, COALESCE(r.state, 'unknown'),
               pg_wal_lsn_diff(pg_current_wal_lsn(), r.replay_lsn), r.replay_lag
          FROM pg_stat_replication r
          LEFT JOIN pg_replication_slots s ON s.active_pid = r.pid
        """;

    // pg_is_wal_replay_paused() raises out of recovery; CASE keeps it from being called there.
    private const string ReplicaSql =
        """
        SELECT pg_is_in_recovery(),
               COALESCE((SELECT status FROM pg_stat_wal_receiver), 'none'),
               (SELECT slot_name FROM pg_stat_wal_receiver),
               pg_last_wal_receive_lsn(),
               pg_last_wal_replay_lsn(),
               CASE WHEN pg_is_in_recovery() THEN pg_is_wal_replay_paused() END,
               now() - pg_last_xact_replay_timestamp()
        """;

    /// <summary>The primary's <c>pg_stat_replication</c>, one row per connected standby.</summary>
    public static async Task<IReadOnlyList<StandbyReplication>> ReadStandbysAsync(NpgsqlConnection primary, CancellationToken cancellationToken)
    {
        await using var command = new NpgsqlCommand(StandbysSql, primary);
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        var standbys = new List<StandbyReplication>();
        while (await reader.ReadAsync(cancellationToken))
        {
            standbys.Add(new StandbyReplication(
                reader.GetString(0),
                reader.IsDBNull(1) ? null : reader.GetString(1),
                reader.GetString(2),
                reader.IsDBNull(3) ? null : reader.GetDecimal(3),
                reader.IsDBNull(4) ? null : reader.GetFieldValue<TimeSpan>(4)));
        }

        return standbys;
    }

    /// <summary>The replica's own view of its recovery; run on the replica.</summary>
    public static async Task<ReplicaReplay> ReadReplicaAsync(NpgsqlConnection replica, CancellationToken cancellationToken)
    {
        await using var command = new NpgsqlCommand(ReplicaSql, replica);
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        await reader.ReadAsync(cancellationToken);
        return new ReplicaReplay(
            reader.GetBoolean(0),
            reader.GetString(1),
            reader.IsDBNull(2) ? null : reader.GetString(2),
            reader.IsDBNull(3) ? null : reader.GetFieldValue<NpgsqlLogSequenceNumber>(3),
            reader.IsDBNull(4) ? null : reader.GetFieldValue<NpgsqlLogSequenceNumber>(4),
            reader.IsDBNull(5) ? null : reader.GetBoolean(5),
            reader.IsDBNull(6) ? null : reader.GetFieldValue<TimeSpan>(6));
    }
}
