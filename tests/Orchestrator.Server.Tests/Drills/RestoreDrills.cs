using System.Globalization;
using System.Text.RegularExpressions;
using Npgsql;
using Xunit.Abstractions;

namespace Orchestrator.Server.Tests.Drills;

/// <summary>
/// The runbook's "Data corruption" (RTO 2 min, RPO under a minute) and "Backup restore" (RTO 10 min, RPO 1 h) rows,
/// with pgBackRest through <c>scripts/backup.sh</c> and <c>scripts/restore.sh</c>: rows damaged by a bad statement
/// and a point-in-time restore to before it; the database lost and restored from the last backup and the archived
/// WAL. The operator stops the Server, restores, and starts it again; the runs the restored database knew resume from
/// the steps it recorded, and no step completed before the restore point is bought again.
/// </summary>
[Collection(DrillCollection.Name)]
public sealed partial class RestoreDrills(DrillCluster cluster, ITestOutputHelper output)
{
    [Fact]
    [Trait("Scenario", "data-corruption")]
    public async Task Damaged_rows_are_undone_by_a_point_in_time_restore_and_every_run_completes()
    {
        var rto = TimeSpan.FromMinutes(2);
        var database = await cluster.NewDatabaseAsync("drill_corrupt");
        await using var drill = await DrillWorkload.StartAsync(cluster.Direct(database), DrillCluster.ForApplication(database));
        output.WriteLine(await DrillCluster.ScriptAsync("backup.sh", "full"));
        await drill.StartRunsAsync();
        await drill.WaitForCompletedStepsAsync(DrillWorkload.Runs);

        // Every step seen completed here committed before the restore point taken just after.
        var atRestorePoint = await drill.CompletedStepsAsync();
        var restorePoint = await ScalarAsync(cluster.Direct(database), "SELECT clock_timestamp()::text");
        await Task.Delay(TimeSpan.FromSeconds(2));
        var damaged = await ScalarAsync(cluster.Direct(database), "WITH d AS (UPDATE workflow_steps SET output = 'CORRUPTED' WHERE status = 'Completed' RETURNING 1) SELECT count(*)::text FROM d");
        var faultAt = DateTimeOffset.Parse(await ScalarAsync(cluster.Direct(database), "SELECT now()::text"), CultureInfo.InvariantCulture);
        output.WriteLine($"restore point {restorePoint}; {damaged} step rows damaged at {faultAt:O}");

        await drill.Server.KillAsync();
        output.WriteLine(await DrillCluster.ScriptAsync("restore.sh", $"--to \"{restorePoint}\" --yes"));
        await cluster.RefreshAsync();
        var direct = cluster.Direct(database);
        var stepsAfterRestore = await drill.CompletedStepsAsync(direct);
        await drill.Server.StartAsync(TimeSpan.FromSeconds(90));

        var (first, all) = await drill.MeasureRecoveryAsync(faultAt, 0, rto + TimeSpan.FromMinutes(1), direct);
        var lostSpan = faultAt - DateTimeOffset.Parse(restorePoint, CultureInfo.InvariantCulture);
        var rebought = drill.Rebought(stepsAfterRestore, await drill.RunLabelsAsync(direct));
        var result = new DrillResult("data corruption (PITR)", first, all, Rpo(lostSpan), lostSpan < TimeSpan.FromMinutes(1), rto, "< 1 min", rebought);
        DrillReport.Write(output, result);

        Assert.True(atRestorePoint.IsSubsetOf(stepsAfterRestore),
            $"{atRestorePoint.Count} steps completed at the restore point, {stepsAfterRestore.Count} after the restore; rows by status: " +
            await ScalarAsync(direct, "SELECT coalesce(string_agg(status || '=' || n, ', '), 'none') FROM (SELECT status, count(*) n FROM workflow_steps GROUP BY 1) s") +
            "; runs: " + await ScalarAsync(direct, "SELECT count(*)::text FROM workflow_states"));
        Assert.Equal("0", await ScalarAsync(direct, "SELECT count(*)::text FROM workflow_steps WHERE output = 'CORRUPTED'"));
        await drill.AssertAllCompletedAndAgreeingAsync(direct);
        result.AssertRecovered();
    }

    [Fact]
    [Trait("Scenario", "backup-restore")]
    public async Task A_lost_database_restored_from_the_last_backup_and_WAL_resumes_the_runs_it_knew()
    {
        var rto = TimeSpan.FromMinutes(10);
        var database = await cluster.NewDatabaseAsync("drill_restore");
        await using var drill = await DrillWorkload.StartAsync(cluster.Direct(database), DrillCluster.ForApplication(database));
        output.WriteLine(await DrillCluster.ScriptAsync("backup.sh", "full"));
        await drill.StartRunsAsync();
        await drill.WaitForCompletedStepsAsync(DrillWorkload.Runs);
        await WaitForArchiveAsync(cluster.Direct(database));

        // The database is lost: the Server stops, the primary goes down and its data directory is deleted.
        await drill.Server.KillAsync();
        var faultAt = DateTimeOffset.UtcNow;
        await cluster.Primary.StopImmediatelyAsync();
        Directory.Delete(cluster.Primary.DataDirectory, recursive: true);

        var restored = await DrillCluster.ScriptAsync("restore.sh", "--yes");
        output.WriteLine(restored);
        await cluster.RefreshAsync();
        var direct = cluster.Direct(database);
        var lastReplayed = LastReplayed().Match(restored) is { Success: true } m
            ? DateTimeOffset.Parse(m.Groups[1].Value, CultureInfo.InvariantCulture)
            : (DateTimeOffset?)null;
        var known = await drill.CompletedStepsAsync(direct);
        await drill.Server.StartAsync(TimeSpan.FromSeconds(90));

        var (first, all) = await drill.MeasureRecoveryAsync(faultAt, 0, TimeSpan.FromMinutes(4), direct);
        var lostSpan = lastReplayed is { } replayed ? faultAt - replayed : (TimeSpan?)null;
        var rebought = drill.Rebought(known, await drill.RunLabelsAsync(direct));
        var result = new DrillResult("backup restore (database lost)", first, all, lostSpan is { } span ? Rpo(span) : "unknown", lostSpan < TimeSpan.FromHours(1), rto, "1 h", rebought);
        DrillReport.Write(output, result);

        await drill.AssertAllCompletedAndAgreeingAsync(direct);
        result.AssertRecovered();
    }

    /// <summary>Waits until the WAL written so far has reached the backup repository (archive_timeout is 30 s).</summary>
    private static async Task WaitForArchiveAsync(string connectionString)
    {
        var written = await ScalarAsync(connectionString, "SELECT now()::text");
        var deadline = DateTimeOffset.UtcNow + TimeSpan.FromSeconds(90);
        while (DateTimeOffset.UtcNow < deadline)
        {
            if (await ScalarAsync(connectionString, $"SELECT (coalesce(last_archived_time, '-infinity') > '{written}'::timestamptz)::text FROM pg_stat_archiver") == "true")
            {
                return;
            }

            await Task.Delay(500);
        }

        throw new TimeoutException("no WAL was archived within 90 s (archive_timeout is 30 s)");
    }

    private static string Rpo(TimeSpan lost) => string.Create(CultureInfo.InvariantCulture, $"data of the last {lost.TotalSeconds:0.0} s lost");

    private static async Task<string> ScalarAsync(string connectionString, string sql)
    {
        await using var connection = new NpgsqlConnection(connectionString + ";Pooling=false");
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand(sql, connection);
        return (string)(await command.ExecuteScalarAsync())!;
    }

    [GeneratedRegex(@"last transaction replayed: ([0-9][^;]*);")]
    private static partial Regex LastReplayed();
}
