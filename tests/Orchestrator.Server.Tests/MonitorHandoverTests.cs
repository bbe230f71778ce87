using System.Diagnostics;
using Orchestrator.Server.Tests.Infrastructure;
using Xunit.Abstractions;

namespace Orchestrator.Server.Tests;

/// <summary>Two Servers: each check runs on the one holding its advisory lock, and the other takes it when that one dies.</summary>
[Collection(EndToEnd.Name)]
public sealed class MonitorHandoverTests(MonitorHandoverTests.Cluster cluster, ITestOutputHelper output) : IClassFixture<MonitorHandoverTests.Cluster>
{
    private const string Taken = "Monitor StuckWorkflows: this instance now runs it";

    [Fact]
    public async Task Killing_the_server_that_runs_a_check_hands_it_to_the_other_within_one_schedule_period()
    {
        await WaitAsync(() => cluster.Server.Output.Contains(Taken, StringComparison.Ordinal) || cluster.ServerB.Output.Contains(Taken, StringComparison.Ordinal), "either Server took the check");
        await Task.Delay(TimeSpan.FromSeconds(2));
        var (holder, other) = cluster.Server.Output.Contains(Taken, StringComparison.Ordinal) ? (cluster.Server, cluster.ServerB) : (cluster.ServerB, cluster.Server);
        Assert.DoesNotContain(Taken, other.Output, StringComparison.Ordinal);
        var checkedAt = await LastCheckedAsync();
        await Task.Delay(TimeSpan.FromSeconds(1.5));
        Assert.True(await LastCheckedAsync() > checkedAt, "the check did not run while its holder was alive");

        await holder.KillAsync();
        var clock = Stopwatch.StartNew();
        await WaitAsync(() => other.Output.Contains(Taken, StringComparison.Ordinal), "the other Server took the check");
        output.WriteLine($"the check changed hands {clock.Elapsed.TotalSeconds:0.00} s after its holder was killed (schedule: every second)");
        var takenOver = await LastCheckedAsync();
        await Task.Delay(TimeSpan.FromSeconds(1.5));
        Assert.True(await LastCheckedAsync() > takenOver, "the check did not run after the hand-over");
    }

    private async Task<DateTime> LastCheckedAsync() =>
        (DateTime)(await cluster.RowsAsync("SELECT last_checked_at FROM monitor_conditions WHERE dedup_key = 'stuck-workflows'")).Single()["last_checked_at"]!;

    private static async Task WaitAsync(Func<bool> condition, string what)
    {
        var clock = Stopwatch.StartNew();
        while (!condition())
        {
            Assert.True(clock.Elapsed < TimeSpan.FromSeconds(20), $"not within 20 s: {what}");
            await Task.Delay(100);
        }
    }

    public sealed class Cluster : MonitorCluster;
}
