using NpgsqlTypes;

namespace Orchestrator.Core.Persistence;

/// <summary>What a streaming replica says about itself: recovery, its WAL receiver, what it has received and replayed.</summary>
/// <param name="InRecovery">False once it has been promoted: it no longer follows any primary.</param>
/// <param name="WalReceiver"><c>pg_stat_wal_receiver.status</c> (<c>streaming</c> when alive), <c>none</c> when no receiver runs.</param>
/// <param name="SlotName">The slot the receiver streams from, if any (how the primary's row for it is found).</param>
/// <param name="ReplayPaused"><c>pg_is_wal_replay_paused()</c>; null out of recovery.</param>
/// <param name="ReplayAge"><c>now() - pg_last_xact_replay_timestamp()</c>: grows on an idle primary, so information only.</param>
internal sealed record ReplicaReplay(
    bool InRecovery, string WalReceiver, string? SlotName, NpgsqlLogSequenceNumber? ReceiveLsn, NpgsqlLogSequenceNumber? ReplayLsn,
    bool? ReplayPaused, TimeSpan? ReplayAge)
{
    /// <summary>Everything received has been replayed (or there is nothing to follow).</summary>
    public bool CaughtUp => !InRecovery || (ReceiveLsn is { } received && ReplayLsn is { } replayed && replayed >= received);

    /// <summary>Received but not yet replayed, in bytes.</summary>
    public long PendingReplayBytes => ReceiveLsn is { } received && ReplayLsn is { } replayed && received > replayed ? (long)(ulong)received - (long)(ulong)replayed : 0;

    /// <summary>The replay age when something is left to replay, else zero: an idle primary is not lag.</summary>
    public TimeSpan LagWhileReplaying => CaughtUp ? TimeSpan.Zero : ReplayAge ?? TimeSpan.Zero;
}
