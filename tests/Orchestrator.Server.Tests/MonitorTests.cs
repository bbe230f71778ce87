using System.Diagnostics;
using System.Text.Json.Nodes;
using Orchestrator.Core.Tests.Fakes;
using Orchestrator.Server.Tests.Infrastructure;
using Xunit.Abstractions;

namespace Orchestrator.Server.Tests;

/// <summary>
/// Two Servers running the monitors on one database, all four notice channels pointing at one receiver over real HTTP:
/// a stuck run and a failure rate over half become incidents whose notices each channel receives exactly once.
/// </summary>
[Collection(EndToEnd.Name)]
public sealed class MonitorTests(MonitorTests.Cluster cluster, ITestOutputHelper output) : IClassFixture<MonitorTests.Cluster>
{
    private static readonly string[] Paths = ["/slack", "/teams", "/pagerduty", "/hook"];

    [Fact]
    public async Task A_stuck_run_is_reported_once_per_channel_by_two_servers_naming_it_and_what_it_waits_for_and_resolved_once_when_it_moves()
    {
        var tag = Definitions.Tag();
        var gate = cluster.Llm.Hold(tag);
        var runId = await cluster.Api.StartAsync(Definitions.Chain(tag, 1), new JsonObject { ["text"] = "never answered" });

        var clock = Stopwatch.StartNew();
        var incident = await WaitForIncidentAsync("stuck-workflows", TimeSpan.FromSeconds(40));
        await WaitAsync(() => Paths.All(p => Containing(p, incident).Count >= 1), TimeSpan.FromSeconds(30), "a detected notice on every channel");
        output.WriteLine($"stuck run reported on every channel {clock.Elapsed.TotalSeconds:0.0} s after it started (threshold 4 s)");
        Assert.All(Paths, p => Assert.Contains(runId, Containing(p, incident)[0].Body, StringComparison.Ordinal));
        Assert.Contains("step s1 (llm)", Containing("/hook", incident)[0].Body, StringComparison.Ordinal);

        gate.SetResult();
        await cluster.Api.WaitForStatusAsync(runId, "Completed");
        await WaitAsync(() => Paths.All(p => Containing(p, incident).Count >= 2), TimeSpan.FromSeconds(30), "a resolved notice on every channel");
        await Task.Delay(TimeSpan.FromSeconds(3));

        var rows = await cluster.RowsAsync("SELECT channel, kind, status FROM incident_notices WHERE incident_id = @id ORDER BY id", ("id", incident));
        Assert.All(rows, r => Assert.Equal("sent", r["status"]));
        foreach (var path in Paths)
        {
            var channel = ChannelOf(path);
            Assert.Equal(["detected", "resolved"], rows.Where(r => (string)r["channel"]! == channel).Select(r => (string)r["kind"]!));
            Assert.Equal(2, Containing(path, incident).Count);
        }

        Assert.Contains("INCIDENT RESOLVED", Containing("/slack", incident)[1].Body, StringComparison.Ordinal);
        Assert.Contains("\"event_action\":\"resolve\"", Containing("/pagerduty", incident)[1].Body, StringComparison.Ordinal);
    }

    [Fact]
    public async Task More_than_half_of_recent_runs_failing_opens_one_p1_incident_told_once_per_channel()
    {
        var tag = Definitions.Tag();
        cluster.Llm.Fail(tag, 400, "the request is malformed");
        var runs = new List<string>();
        for (var i = 0; i < 5; i++)
        {
            runs.Add(await cluster.Api.StartAsync(Definitions.Chain(tag, 1), new JsonObject { ["text"] = $"failing {i}" }));
        }

        foreach (var run in runs)
        {
            await cluster.Api.WaitForStatusAsync(run, "Failed");
        }

        var incident = await WaitForIncidentAsync("failure-rate", TimeSpan.FromSeconds(30));
        await WaitAsync(() => Paths.All(p => Containing(p, incident).Count >= 1), TimeSpan.FromSeconds(30), "a detected notice on every channel");
        await Task.Delay(TimeSpan.FromSeconds(3));

        var row = Assert.Single(await cluster.RowsAsync("SELECT severity FROM incidents WHERE dedup_key = 'failure-rate'"));
        Assert.Equal("P1", row["severity"]);
        Assert.All(Paths, p => Assert.Single(Containing(p, incident)));
        Assert.Contains("Severity: P1", Containing("/slack", incident)[0].Body, StringComparison.Ordinal);
        Assert.Contains("\"severity\":\"error\"", Containing("/pagerduty", incident)[0].Body, StringComparison.Ordinal);
    }

    private List<ReceivedNotice> Containing(string path, Guid incident) =>
        cluster.Receiver.Delivered(path).Where(r => r.Body.Contains(incident.ToString(), StringComparison.Ordinal)).ToList();

    private static string ChannelOf(string path) => path == "/hook" ? "webhook" : path.TrimStart('/');

    private async Task<Guid> WaitForIncidentAsync(string dedupKey, TimeSpan limit)
    {
        Guid? id = null;
        await WaitAsync(
            async () =>
            {
                var rows = await cluster.RowsAsync("SELECT id FROM incidents WHERE dedup_key = @key", ("key", dedupKey));
                id = rows.Count == 1 ? (Guid)rows[0]["id"]! : null;
                return id is not null;
            },
            limit,
            $"an incident {dedupKey}");
        return id!.Value;
    }

    private static Task WaitAsync(Func<bool> condition, TimeSpan limit, string what) => WaitAsync(() => Task.FromResult(condition()), limit, what);

    private static async Task WaitAsync(Func<Task<bool>> condition, TimeSpan limit, string what)
    {
        var clock = Stopwatch.StartNew();
        while (!await condition())
        {
            Assert.True(clock.Elapsed < limit, $"no {what} within {limit.TotalSeconds:0} s");
            await Task.Delay(200);
        }
    }

    public sealed class Cluster : MonitorCluster;
}
