namespace Orchestrator.Core.Persistence;

/// <summary>One standby as the primary sees it in <c>pg_stat_replication</c>.</summary>
/// <param name="Name">Its <c>application_name</c> (<c>replica</c> when it sent none).</param>
/// <param name="SlotName">The replication slot it streams from, if any.</param>
/// <param name="State">The WAL sender's state: <c>streaming</c>, <c>catchup</c>, <c>startup</c>, <c>backup</c>, <c>stopping</c>.</param>
/// <param name="LagBytes">WAL the primary has written that the standby has not replayed yet (by the standby's last report); null before its first report.</param>
/// <param name="ReplayLag">The primary's <c>replay_lag</c>: keeps its last value or goes null on an idle stream, so information only.</param>
internal sealed record StandbyReplication(string Name, string? SlotName, string State, decimal? LagBytes, TimeSpan? ReplayLag);
