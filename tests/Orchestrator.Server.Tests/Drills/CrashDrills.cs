using Xunit.Abstractions;

namespace Orchestrator.Server.Tests.Drills;

/// <summary>
/// The runbook's "Application crash" (RTO 30 s, RPO 0 completed steps) and "Database crash" (RTO 2 min, RPO under
/// a minute) rows: SIGKILL of the Server, and of the PostgreSQL postmaster, while twenty runs are in flight.
/// </summary>
[Collection(DrillCollection.Name)]
public sealed class CrashDrills(DrillCluster cluster, ITestOutputHelper output)
{
    [Fact]
    [Trait("Scenario", "app-crash")]
    public async Task Killing_the_server_in_a_step_and_restarting_it_loses_no_completed_step()
    {
        var rto = TimeSpan.FromSeconds(30);
        await using var drill = await DrillWorkload.InFlightAsync(cluster, "drill_appcrash");

        var atFault = await drill.CompletedStepsAsync();
        await drill.Server.KillAsync();
        var injected = DateTimeOffset.UtcNow;
        await drill.Server.StartAsync(TimeSpan.FromSeconds(60));

        var (first, all) = await drill.MeasureRecoveryAsync(injected, atFault.Count, rto + TimeSpan.FromMinutes(1));
        var rebought = drill.Rebought(atFault, await drill.RunLabelsAsync());
        var result = new DrillResult("application crash", first, all, $"{rebought} completed steps lost", rebought == 0, rto, "0 completed steps", rebought);
        DrillReport.Write(output, result);

        await drill.AssertAllCompletedAndAgreeingAsync();
        result.AssertRecovered();
    }

    [Fact]
    [Trait("Scenario", "db-crash")]
    public async Task Killing_the_postmaster_and_restarting_it_runs_crash_recovery_and_loses_no_committed_step()
    {
        var rto = TimeSpan.FromMinutes(2);
        await using var drill = await DrillWorkload.InFlightAsync(cluster, "drill_dbcrash");

        var atFault = await drill.CompletedStepsAsync();
        await cluster.Primary.KillAsync();
        var injected = DateTimeOffset.UtcNow;
        await cluster.Primary.StartAsync();

        var (first, all) = await drill.MeasureRecoveryAsync(injected, atFault.Count, rto + TimeSpan.FromMinutes(1));
        var labels = await drill.RunLabelsAsync();
        var lost = atFault.Count(s => !labels.ContainsKey(s.Run)) + atFault.Except(await drill.CompletedStepsAsync()).Count();
        var rebought = drill.Rebought(atFault, labels);
        var result = new DrillResult("database crash", first, all, $"{lost} committed steps lost", lost == 0, rto, "< 1 min", rebought);
        DrillReport.Write(output, result);

        await drill.AssertAllCompletedAndAgreeingAsync();
        result.AssertRecovered();
        drill.AssertEveryStepCalledOnce();
    }
}
