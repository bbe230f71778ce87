using Npgsql;
using Orchestrator.Server.Tests.Infrastructure;
using Xunit.Abstractions;

namespace Orchestrator.Server.Tests.Drills;

/// <summary>
/// The runbook's "Database connection loss" row (RTO 2 min, RPO 0): the primary stopped for 40 s while twenty runs
/// are between steps, and every application connection killed. Work waits; nothing fails, nothing is bought twice.
/// </summary>
[Collection(DrillCollection.Name)]
public sealed class DatabaseOutageDrills(DrillCluster cluster, ITestOutputHelper output)
{
    private static readonly TimeSpan Rto = TimeSpan.FromMinutes(2);

    public static TheoryData<int> Outages => DrillCluster.Long ? new() { 40, 90 } : new() { 40 };

    [Theory]
    [Trait("Scenario", "db-connection-loss")]
    [MemberData(nameof(Outages))]
    public async Task The_primary_stopped_for_a_while_delays_every_run_and_loses_nothing(int seconds)
    {
        await using var drill = await DrillWorkload.InFlightAsync(cluster, "drill_dbloss");

        var atFault = await drill.CompletedStepsAsync();
        await cluster.Primary.StopAsync();
        await Task.Delay(TimeSpan.FromSeconds(seconds));
        await cluster.Primary.StartAsync();
        var cleared = DateTimeOffset.UtcNow;

        var (first, all) = await drill.MeasureRecoveryAsync(cleared, atFault.Count, Rto + TimeSpan.FromMinutes(1));
        var rebought = drill.Rebought(atFault, await drill.RunLabelsAsync());
        var result = new DrillResult($"database connection loss ({seconds} s)", first, all, $"{rebought} completed steps lost", rebought == 0, Rto, "0", rebought);
        DrillReport.Write(output, result);

        await drill.AssertAllCompletedAndAgreeingAsync();
        result.AssertRecovered();
        drill.AssertEveryStepCalledOnce();
    }

    [Fact]
    [Trait("Scenario", "db-connection-loss")]
    public async Task A_reply_paid_for_outlives_an_outage_longer_than_the_activitys_own_retry_window()
    {
        // The activity gives up after 5 s; the orchestration retries it, and the retry records the reply kept in
        // memory instead of asking the provider again. One run's second step is held at the provider until the
        // primary is down, so a reply is certainly paid for while the database is away.
        var database = await cluster.NewDatabaseAsync("drill_paid");
        await using var drill = await DrillWorkload.StartAsync(
            cluster.Direct(database), DrillCluster.ForApplication(database), settings: new Dictionary<string, string?> { ["Resilience__DatabaseRetryWindow"] = "00:00:05" });
        var held = $"DRILL-{drill.Tag} run=r00 step=s2";
        var paid = drill.Llm.Hold(held);
        await drill.StartRunsAsync();
        await drill.WaitForCompletedStepsAsync(DrillWorkload.Runs);
        await drill.Llm.WaitForAsync(held);

        var atFault = await drill.CompletedStepsAsync();
        await cluster.Primary.StopAsync();
        paid.TrySetResult();
        await Task.Delay(TimeSpan.FromSeconds(30));
        await cluster.Primary.StartAsync();

        var (first, all) = await drill.MeasureRecoveryAsync(DateTimeOffset.UtcNow, atFault.Count, Rto + TimeSpan.FromMinutes(1));
        var rebought = drill.Rebought(atFault, await drill.RunLabelsAsync());
        DrillReport.Write(output, new DrillResult("database loss 30 s, 5 s activity window", first, all, $"{rebought} completed steps lost", rebought == 0, Rto, "0", rebought));

        await drill.AssertAllCompletedAndAgreeingAsync();
        drill.AssertEveryStepCalledOnce();
        Assert.Contains(drill.Server.StandardOutput, line => line.Contains("instead of calling the provider again", StringComparison.Ordinal));
    }

    [Fact]
    [Trait("Scenario", "db-connection-loss")]
    public async Task Every_application_connection_killed_delays_nothing_for_long_and_loses_nothing()
    {
        await using var drill = await DrillWorkload.InFlightAsync(cluster, "drill_terminate");

        var atFault = await drill.CompletedStepsAsync();
        await using (var connection = new NpgsqlConnection(cluster.Direct("postgres")))
        {
            await connection.OpenAsync();
            await using var kill = new NpgsqlCommand("SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE datname = @db AND pid <> pg_backend_pid()", connection);
            kill.Parameters.AddWithValue("db", drill.DatabaseName);
            output.WriteLine($"terminated {await kill.ExecuteScalarAsync()} connections");
        }

        var injected = DateTimeOffset.UtcNow;
        var (first, all) = await drill.MeasureRecoveryAsync(injected, atFault.Count, Rto + TimeSpan.FromMinutes(1));
        var rebought = drill.Rebought(atFault, await drill.RunLabelsAsync());
        var result = new DrillResult("database connections killed", first, all, $"{rebought} completed steps lost", rebought == 0, Rto, "0", rebought);
        DrillReport.Write(output, result);

        await drill.AssertAllCompletedAndAgreeingAsync();
        result.AssertRecovered();
        drill.AssertEveryStepCalledOnce();
    }
}
