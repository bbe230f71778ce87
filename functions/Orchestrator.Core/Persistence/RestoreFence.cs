namespace Orchestrator.Core.Persistence;

/// <summary>
/// Keeps an orchestration that predates a database restore from writing to the restored database. Every run carries
/// the restore it was started after (<see cref="RestoreEpoch"/>, the <c>database_restored</c> setting that
/// <c>scripts/restore.sh</c> writes, or null); the reconciler restarts the restored database's unfinished runs with
/// the new one, and the claims and records of the older orchestrations are refused.
/// </summary>
public sealed record RestoreFence(string? RestoreEpoch)
{
    /// <summary>SQL that is true when <c>@epoch</c> is the restore the database last went through.</summary>
    public const string Matches = "(SELECT value->>'at' FROM settings WHERE key = 'database_restored') IS NOT DISTINCT FROM @epoch";

    /// <summary>What a step claim reports as the run's status when the orchestration is superseded.</summary>
    public const string Superseded = "superseded by a restart after a database restore";
}
