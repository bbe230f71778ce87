using Xunit.Abstractions;

namespace Orchestrator.Server.Tests.Drills;

/// <summary>
/// The runbook's "Database failover" row (RTO 2 min, RPO ≤ 30 s): the primary stopped for good while twenty runs are
/// in flight and the streaming replica promoted with <c>scripts/failover.sh promote</c>. The Server, given both hosts
/// with <c>Target Session Attributes=primary</c>, finds the new primary without a restart; the old primary is then
/// rebuilt as the new replica with <c>scripts/failover.sh rebuild</c>.
/// </summary>
[Collection(DrillCollection.Name)]
public sealed class FailoverDrills(DrillCluster cluster, ITestOutputHelper output)
{
    private static readonly TimeSpan Rto = TimeSpan.FromMinutes(2);

    [Fact]
    [Trait("Scenario", "failover")]
    public async Task Promoting_the_replica_moves_every_run_to_the_new_primary_without_a_restart()
    {
        await using var drill = await DrillWorkload.InFlightAsync(cluster, "drill_failover");

        var atFault = await drill.CompletedStepsAsync();
        var serverProcess = drill.Server.ProcessId;
        DateTimeOffset injected;
        try
        {
            injected = DateTimeOffset.UtcNow;
            output.WriteLine(await DrillCluster.ScriptAsync("failover.sh", "promote"));
        }
        finally
        {
            await cluster.RefreshAsync();
        }

        var direct = cluster.Direct(drill.DatabaseName);
        var (first, all) = await drill.MeasureRecoveryAsync(injected, atFault.Count, Rto + TimeSpan.FromMinutes(1), direct);
        var completedNow = await drill.CompletedStepsAsync(direct);
        var lost = atFault.Except(completedNow).Count();
        var rebought = drill.Rebought(atFault, await drill.RunLabelsAsync(direct));
        var result = new DrillResult("database failover", first, all, $"{lost} committed steps lost", lost == 0, Rto, "<= 30 s", rebought);
        DrillReport.Write(output, result);

        Assert.Equal(serverProcess, drill.Server.ProcessId);
        await drill.AssertAllCompletedAndAgreeingAsync(direct);
        result.AssertRecovered();
        drill.AssertEveryStepCalledOnce();

        output.WriteLine(await DrillCluster.ScriptAsync("failover.sh", "rebuild"));
        await cluster.RefreshAsync();
        Assert.Contains("streaming", await DrillCluster.ScriptAsync("failover.sh", "status"), StringComparison.Ordinal);
    }
}
