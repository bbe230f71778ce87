using System.Diagnostics;
using System.Net;
using System.Text.Json.Nodes;
using Orchestrator.Server.Tests.Infrastructure;
using Xunit.Abstractions;

namespace Orchestrator.Server.Tests;

/// <summary>
/// Two Servers on one database and one task hub, as many instances behind one URL: an admin action through one is
/// obeyed by the other within seconds, and both report the same cluster-wide counts.
/// </summary>
[Collection(EndToEnd.Name)]
public sealed class TwoInstancesTests(TwoInstancesTests.Cluster cluster, ITestOutputHelper output) : IClassFixture<TwoInstancesTests.Cluster>
{
    private static readonly TimeSpan Obeyed = TimeSpan.FromSeconds(5);

    [Fact]
    public async Task Maintenance_switched_through_one_instance_is_obeyed_by_the_other_within_five_seconds()
    {
        using var adminA = new OrchestratorApi(cluster.Server.BaseAddress, TestEnvironment.AdminToken);
        var tag = Definitions.Tag();
        try
        {
            Assert.Equal(HttpStatusCode.OK, (await adminA.PostAsync("/admin/maintenance/enable", null)).Status);
            var refusedAfter = await WithinAsync(async () => (await StartOnBAsync(tag)) == HttpStatusCode.ServiceUnavailable);
            output.WriteLine($"B refused starts {refusedAfter.TotalSeconds:0.00} s after maintenance was enabled through A");
            Assert.True(refusedAfter < Obeyed, $"B still accepted starts {refusedAfter.TotalSeconds:0.0} s after A enabled maintenance");
        }
        finally
        {
            Assert.Equal(HttpStatusCode.OK, (await adminA.PostAsync("/admin/maintenance/disable", null)).Status);
        }

        var acceptedAfter = await WithinAsync(async () => (await StartOnBAsync(tag)) == HttpStatusCode.Accepted);
        output.WriteLine($"B accepted starts {acceptedAfter.TotalSeconds:0.00} s after maintenance was disabled through A");
        Assert.True(acceptedAfter < Obeyed, $"B still refused starts {acceptedAfter.TotalSeconds:0.0} s after A disabled maintenance");
    }

    [Fact]
    public async Task A_breaker_reset_through_one_instance_closes_the_open_breaker_of_the_other_within_five_seconds()
    {
        var tag = Definitions.Tag();
        cluster.Llm.Fail($"STEP1-{tag}", 503, "provider outage");
        var retry = new JsonObject { ["maxAttempts"] = 2, ["firstInterval"] = "1s" };

        // Failing calls land on either instance; keep starting failing runs until B's breaker has opened.
        var deadline = DateTimeOffset.UtcNow + TimeSpan.FromSeconds(90);
        while (await BreakerOnBAsync() != 1)
        {
            Assert.True(DateTimeOffset.UtcNow < deadline, "B's breaker never opened");
            await cluster.Api.StartAsync(Definitions.Chain(tag, 1, retry), new JsonObject { ["text"] = "outage" });
            await Task.Delay(500);
        }

        cluster.Llm.Heal($"STEP1-{tag}");
        using var adminA = new OrchestratorApi(cluster.Server.BaseAddress, TestEnvironment.AdminToken);
        var (status, reset, _) = await adminA.PostAsync("/admin/circuit-breaker/reset?name=default", null);
        Assert.Equal(HttpStatusCode.OK, status);
        Assert.Equal(["default"], reset!["reset"]!.AsArray().Select(n => n!.GetValue<string>()));

        var closedAfter = await WithinAsync(async () => await BreakerOnBAsync() == 0);
        output.WriteLine($"B's breaker closed {closedAfter.TotalSeconds:0.00} s after the reset through A");
        Assert.True(closedAfter < Obeyed, $"B's breaker was still open {closedAfter.TotalSeconds:0.0} s after the reset through A");
        Assert.Contains("closed by a reset", cluster.ServerB.Output, StringComparison.Ordinal);
        Assert.Equal(1, await cluster.ScalarAsync("SELECT count(*) FROM admin_audit WHERE action = 'circuit-breaker.reset' AND target = 'default'"));
    }

    [Fact]
    public async Task Both_instances_report_the_same_run_counts()
    {
        var tag = Definitions.Tag();
        var ids = new List<string>();
        for (var i = 0; i < 4; i++)
        {
            ids.Add(await cluster.Api.StartAsync(Definitions.Chain(tag, 1), new JsonObject { ["text"] = $"run {i}" }));
        }

        foreach (var id in ids)
        {
            await cluster.Api.WaitForStatusAsync(id, "Completed");
        }

        // Both caches expire within their period; compare scrapes once each has read the database after the runs.
        var completed = await cluster.ScalarAsync("SELECT count(*) FROM workflow_states WHERE status = 'Completed'");
        var a = await ScrapeUntilAsync(cluster.Api.Http, completed);
        var b = await ScrapeUntilAsync(cluster.ApiB.Http, completed);
        foreach (var status in new[] { "Pending", "Running", "Completed", "Failed", "Cancelled" })
        {
            var series = $"llm_orchestrator_workflows{{status=\"{status}\"}}";
            Assert.Equal(PrometheusText.Value(a, series), PrometheusText.Value(b, series));
        }

        Assert.Equal(PrometheusText.Value(a, "llm_orchestrator_workflow_error_total"), PrometheusText.Value(b, "llm_orchestrator_workflow_error_total"));
    }

    private async Task<HttpStatusCode> StartOnBAsync(string tag)
    {
        var (status, _, _) = await cluster.ApiB.PostAsync("/api/v1/workflows", new JsonObject
        {
            ["definition"] = Definitions.Chain(tag, 1),
            ["input"] = new JsonObject { ["text"] = "probe" },
        });
        return status;
    }

    private async Task<double> BreakerOnBAsync()
    {
        var text = await cluster.ApiB.Http.GetStringAsync("/metrics");
        return PrometheusText.Value(text, "llm_orchestrator_circuit_breaker_state{name=\"default\"}");
    }

    private static async Task<string> ScrapeUntilAsync(HttpClient http, long completed)
    {
        var deadline = DateTimeOffset.UtcNow + TimeSpan.FromSeconds(20);
        while (true)
        {
            var text = await http.GetStringAsync("/metrics");
            if (PrometheusText.Value(text, "llm_orchestrator_workflows{status=\"Completed\"}") >= completed || DateTimeOffset.UtcNow > deadline)
            {
                return text;
            }

            await Task.Delay(250);
        }
    }

    /// <summary>How long until <paramref name="condition"/> holds (polled every 100 ms; gives up after 30 s).</summary>
    private static async Task<TimeSpan> WithinAsync(Func<Task<bool>> condition)
    {
        var clock = Stopwatch.StartNew();
        while (!await condition())
        {
            if (clock.Elapsed > TimeSpan.FromSeconds(30))
            {
                break;
            }

            await Task.Delay(100);
        }

        return clock.Elapsed;
    }

    /// <summary>Server A (the base fixture's) and Server B: same database and task hub, their own worker ids.</summary>
    public sealed class Cluster : TwoServerFixture
    {
        // A breaker that opens after two failures and stays open far longer than the test, so only a reset closes it.
        protected override Dictionary<string, string?> SettingsFor(string instance) => new()
        {
            ["Durable__WorkerId"] = $"e2e-{TaskHub}-{instance}",
            ["Llm__BreakerMinimumThroughput"] = "2",
            ["Llm__BreakerFailureRatio"] = "0.5",
            ["Llm__BreakerDuration"] = "00:30:00",
        };
    }
}
