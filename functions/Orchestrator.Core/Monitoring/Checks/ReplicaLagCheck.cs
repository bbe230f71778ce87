using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Npgsql;
using NpgsqlTypes;
using Orchestrator.Core.Health;
using Orchestrator.Core.Hosting;
using Orchestrator.Core.Incidents;
using Orchestrator.Core.Persistence;
using Orchestrator.Core.Resilience;

namespace Orchestrator.Core.Monitoring.Checks;

/// <summary>
/// Replication lag done right (runbook issue #4): a heartbeat row written on the primary and read back on the replica,
/// byte lag from the replica's replay LSN against the primary's LSN, and WAL-receiver liveness. The replay timestamp's
/// age (the runbook's <c>now() - pg_last_xact_replay_timestamp()</c>) is shown, never decides: it grows on an idle
/// primary. Conditions <c>replica-lag</c> and <c>replica-down</c>; none at all without a replica configured, and none
/// when the primary does not answer (that is <see cref="PrimaryDatabaseCheck"/>'s finding).
/// </summary>
public sealed class ReplicaLagCheck(
    [FromKeyedServices(MonitoringExtensions.DataSourceKey)] NpgsqlDataSource primary, ReplicaDataSource replica, InstanceIdentity instance, IOptions<ReplicaLagMonitorOptions> options,
    TimeProvider time, ILogger<ReplicaLagCheck> logger) : IMonitorCheck
{
    public const string LagKey = "replica-lag";
    public const string DownKey = "replica-down";

    private const string Impact = "Stale data on replica; failover concerns (the standby is behind the primary)";
    private const string DownImpact = "No standby follows the primary: stale data on replica, nothing to fail over to";

    private const string CheckCommands =
        "Check replication lag: psql -h replica -U postgres -c \"SELECT now() - pg_last_xact_replay_timestamp() AS lag;\" " +
        "and replication status: psql -h primary -U postgres -c \"SELECT * FROM pg_stat_replication;\"";

    private static readonly TimeSpan PollInterval = TimeSpan.FromMilliseconds(50);

    public string Name => ReplicaLagMonitorOptions.Name;

    public MonitorCheckOptions Options => options.Value;

    public async Task<IReadOnlyList<ConditionReading>> EvaluateAsync(CancellationToken cancellationToken)
    {
        if (replica.DataSource is not { } replicaSource)
        {
            return [];
        }

        var settings = options.Value;
        var (answered, written) = await CheckQuery.TryAsync(this, primary, "the primary", time, logger, WriteHeartbeatAsync, cancellationToken);
        if (!answered)
        {
            return [];
        }

        ReplicaSide seen;
        try
        {
            seen = await ReadReplicaAsync(replicaSource, written.Sequence, settings, cancellationToken);
        }
        catch (Exception ex) when (CheckQuery.Unanswered(ex, cancellationToken))
        {
            // The replica is down as far as anyone can tell; its lag cannot be measured, so that condition keeps its state.
            var standby = Match(written.Standbys, null, settings);
            return [Down($"the replica does not answer ({HealthText.Describe(ex)})", null, standby, settings)];
        }

        return [Lag(written, seen, settings), DownReading(written, seen, settings)];
    }

    private async Task<PrimarySide> WriteHeartbeatAsync(NpgsqlConnection connection, CancellationToken cancellationToken)
    {
        // The standbys first: their report predates our write, so the heartbeat's own WAL is not counted against them.
        var standbys = await ReplicationQueries.ReadStandbysAsync(connection, cancellationToken);
        var now = time.GetUtcNow();
        long sequence;
        await using (var upsert = new NpgsqlCommand(
            """
            INSERT INTO monitor_heartbeat (id, sequence, written_at, written_by) VALUES (1, 1, $1, $2)
            ON CONFLICT (id) DO UPDATE SET sequence = monitor_heartbeat.sequence + 1, written_at = EXCLUDED.written_at, written_by = EXCLUDED.written_by
            RETURNING sequence
            """, connection))
        {
            upsert.Parameters.Add(new NpgsqlParameter { Value = now });
            upsert.Parameters.Add(new NpgsqlParameter { Value = instance.Id });
            sequence = (long)(await upsert.ExecuteScalarAsync(cancellationToken))!;
        }

        // After the heartbeat's commit: a replica that shows the heartbeat has replayed at least this far.
        await using var lsn = new NpgsqlCommand("SELECT pg_current_wal_lsn()", connection);
        var current = (NpgsqlLogSequenceNumber)(await lsn.ExecuteScalarAsync(cancellationToken))!;
        return new PrimarySide(standbys, sequence, now, current);
    }

    /// <summary>Reads the replica until it shows the heartbeat or <see cref="ReplicaLagMonitorOptions.HeartbeatWait"/> has passed.</summary>
    private async Task<ReplicaSide> ReadReplicaAsync(NpgsqlDataSource replicaSource, long sequence, ReplicaLagMonitorOptions settings, CancellationToken cancellationToken)
    {
        // Counted in polls rather than measured on the injected clock: the replica replays in real time whatever
        // clock the check is given (a fake one would never let the wait end).
        var polls = Math.Max(1, (int)Math.Ceiling(settings.HeartbeatWait / PollInterval));
        for (var poll = 1; ; poll++)
        {
            var seen = await BoundedStatement.RunAsync(replicaSource, settings.Timeout, time, ReadReplicaOnceAsync, cancellationToken);
            // A paused replay or a dead receiver will not bring the heartbeat in however long one waits.
            if (seen.HeartbeatSequence >= sequence || poll >= polls || seen.Replay.ReplayPaused == true || seen.Replay.WalReceiver != "streaming")
            {
                return seen;
            }

            await Task.Delay(PollInterval, cancellationToken);
        }
    }

    private static async Task<ReplicaSide> ReadReplicaOnceAsync(NpgsqlConnection connection, CancellationToken cancellationToken)
    {
        var replay = await ReplicationQueries.ReadReplicaAsync(connection, cancellationToken);
        await using var read = new NpgsqlCommand("SELECT sequence, written_at FROM monitor_heartbeat WHERE id = 1", connection);
        await using var reader = await read.ExecuteReaderAsync(cancellationToken);
        return await reader.ReadAsync(cancellationToken)
            ? new ReplicaSide(replay, reader.GetInt64(0), reader.GetFieldValue<DateTimeOffset>(1))
            : new ReplicaSide(replay, null, null);
    }

    private ConditionReading Lag(PrimarySide written, ReplicaSide seen, ReplicaLagMonitorOptions settings)
    {
        var now = time.GetUtcNow();
        var caughtUp = seen.HeartbeatSequence >= written.Sequence;
        // Not caught up: the heartbeat the replica has is as old as its view of the primary (a stopped stream keeps aging).
        var lag = caughtUp ? TimeSpan.Zero : now - (seen.HeartbeatWrittenAt ?? written.WrittenAt);
        if (lag < TimeSpan.Zero)
        {
            lag = TimeSpan.Zero;
        }

        var bytes = seen.Replay.ReplayLsn is { } replayed && (ulong)written.Lsn > (ulong)replayed ? (decimal)((ulong)written.Lsn - (ulong)replayed) : 0m;
        var standby = Match(written.Standbys, seen.Replay, settings);
        var facts = new List<KeyValuePair<string, string>>
        {
            new("Heartbeat lag", FactText.Seconds(lag)),
            new("Byte lag", FactText.Bytes(bytes)),
            new("Heartbeat", caughtUp
                ? $"#{written.Sequence} written {FactText.Clock(written.WrittenAt)}, seen on the replica"
                : $"#{written.Sequence} written {FactText.Clock(written.WrittenAt)}, replica has " +
                  (seen.HeartbeatSequence is { } had ? $"#{had} of {FactText.Clock(seen.HeartbeatWrittenAt!.Value)}" : "none")),
            new("Replay paused", seen.Replay.ReplayPaused is { } paused ? FactText.YesNo(paused) : "not in recovery"),
            new("WAL receiver", seen.Replay.WalReceiver),
            new("Received, not replayed", FactText.Bytes(seen.Replay.PendingReplayBytes)),
            new("Lag reported to the primary", standby?.LagBytes is { } reported ? FactText.Bytes(reported) : "n/a"),
            new("Primary's replay_lag (information)", standby?.ReplayLag is { } replayLag ? FactText.Seconds(replayLag) : "n/a"),
            new("Last replayed transaction (information)", seen.Replay.ReplayAge is { } age ? $"{FactText.Duration(age)} ago" : "n/a"),
            new("Thresholds", $"{FactText.Seconds(settings.MaxLag)} / {FactText.Bytes(settings.MaxLagBytes)}"),
        };

        var overTime = lag > settings.MaxLag;
        var overBytes = bytes > settings.MaxLagBytes;
        if (!overTime && !overBytes)
        {
            return ConditionReading.Clear(LagKey, settings.Severity, "Replication lag on replica", facts);
        }

        var measured = overTime ? FactText.Seconds(lag) : FactText.Bytes(bytes);
        var why = seen.Replay.ReplayPaused == true
            ? "WAL replay is paused on the replica"
            : seen.Replay.WalReceiver != "streaming" ? $"the replica's WAL receiver is '{seen.Replay.WalReceiver}'" : "the replica is not keeping up (heavy write load, network latency or an under-resourced replica)";
        return new ConditionReading(
            LagKey, true, settings.Severity,
            $"Replication lag {measured} on replica",
            Impact,
            $"Replication lag {FactText.Seconds(lag)} by the heartbeat and {FactText.Bytes(bytes)} of WAL not replayed " +
            $"(thresholds {FactText.Seconds(settings.MaxLag)} / {FactText.Bytes(settings.MaxLagBytes)}): {why}.",
            (seen.Replay.ReplayPaused == true ? "Resume replay on the replica: psql -h replica -U postgres -c \"SELECT pg_wal_replay_resume();\". " : "") +
            CheckCommands + ". If lag excessive, may need to rebuild replica; scale replica resources.",
            facts);
    }

    private ConditionReading DownReading(PrimarySide written, ReplicaSide seen, ReplicaLagMonitorOptions settings)
    {
        var standby = Match(written.Standbys, seen.Replay, settings);
        string? why = !seen.Replay.InRecovery
            ? "the replica is not in recovery (promoted?): it no longer follows the primary"
            : seen.Replay.WalReceiver != "streaming"
                ? $"the replica's WAL receiver is '{seen.Replay.WalReceiver}', not streaming"
                : standby is null ? "the replica is missing from pg_stat_replication on the primary" : null;
        if (why is null)
        {
            return ConditionReading.Clear(DownKey, settings.Severity, "Replica down", DownFacts(seen.Replay, standby));
        }

        return Down(why, seen.Replay, standby, settings);
    }

    private static ConditionReading Down(string why, ReplicaReplay? replay, StandbyReplication? standby, ReplicaLagMonitorOptions settings) => new(
        DownKey, true, settings.Severity,
        "Replica down: " + why,
        DownImpact,
        $"Replica down: {why}.",
        "Check replication status: psql -h primary -U postgres -c \"SELECT * FROM pg_stat_replication;\" and on the replica " +
        "psql -h replica -U postgres -c \"SELECT status FROM pg_stat_wal_receiver;\" (pg_isready -h replica); " +
        "if it does not come back, may need to rebuild replica.",
        DownFacts(replay, standby));

    private static List<KeyValuePair<string, string>> DownFacts(ReplicaReplay? replay, StandbyReplication? standby) =>
    [
        new("Replica answers", FactText.YesNo(replay is not null)),
        new("In recovery", replay is null ? "unknown" : FactText.YesNo(replay.InRecovery)),
        new("WAL receiver", replay?.WalReceiver ?? "unknown"),
        new("In pg_stat_replication", standby is null ? "no" : $"yes ({standby.Name}, {standby.State})"),
    ];

    /// <summary>
    /// The primary's row for this replica: by <see cref="ReplicaLagMonitorOptions.ReplicaName"/> when set, else by the slot
    /// its WAL receiver uses, else the only standby there is.
    /// </summary>
    private static StandbyReplication? Match(IReadOnlyList<StandbyReplication> standbys, ReplicaReplay? replay, ReplicaLagMonitorOptions settings)
    {
        if (!string.IsNullOrEmpty(settings.ReplicaName))
        {
            return standbys.FirstOrDefault(s => string.Equals(s.Name, settings.ReplicaName, StringComparison.Ordinal));
        }

        if (replay?.SlotName is { } slot)
        {
            return standbys.FirstOrDefault(s => string.Equals(s.SlotName, slot, StringComparison.Ordinal));
        }

        return standbys.Count == 1 ? standbys[0] : standbys.FirstOrDefault(s => s.State == "streaming");
    }

    private sealed record PrimarySide(IReadOnlyList<StandbyReplication> Standbys, long Sequence, DateTimeOffset WrittenAt, NpgsqlLogSequenceNumber Lsn);

    private sealed record ReplicaSide(ReplicaReplay Replay, long? HeartbeatSequence, DateTimeOffset? HeartbeatWrittenAt);
}
