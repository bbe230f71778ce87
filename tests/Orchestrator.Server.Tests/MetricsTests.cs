using System.Diagnostics;
using System.Net;
using System.Text.Json.Nodes;
using Orchestrator.Server.Tests.Infrastructure;

namespace Orchestrator.Server.Tests;

/// <summary>/metrics: the runbook's series with real values, counts from PostgreSQL, and an exposition promtool accepts.</summary>
[Collection(EndToEnd.Name)]
public sealed class MetricsTests(ServerFixture fixture) : IClassFixture<ServerFixture>
{
    private static readonly string[] Statuses = ["Pending", "Running", "Completed", "Failed", "Cancelled"];

    [Fact]
    public async Task With_runs_in_every_state_the_counts_match_postgres_and_promtool_accepts_the_exposition()
    {
        await MakeRunsInEveryStateAsync();
        // The database figures are cached for a few seconds; wait until a scrape reflects them.
        var text = await ScrapeUntilAsync(t => Statuses.All(s => PrometheusText.Value(t, $"llm_orchestrator_workflows{{status=\"{s}\"}}") >= 1));

        foreach (var status in Statuses)
        {
            var rows = await fixture.ScalarAsync("SELECT count(*) FROM workflow_states WHERE status = @s", ("s", status));
            Assert.Equal(rows, PrometheusText.Value(text, $"llm_orchestrator_workflows{{status=\"{status}\"}}"));
        }

        Assert.Equal(await fixture.ScalarAsync("SELECT count(*) FROM workflow_states WHERE status = 'Failed'"), PrometheusText.Value(text, "llm_orchestrator_workflow_error_total"));
        Assert.Equal(await fixture.ScalarAsync("SELECT COALESCE(sum(failed_attempts), 0) FROM workflow_steps WHERE step_type = 'llm'"),
            PrometheusText.Value(text, "llm_orchestrator_step_error_total{type=\"llm\"}"));
        Assert.True(PrometheusText.Value(text, "llm_orchestrator_step_error_total{type=\"llm\"}") >= 1);
        Assert.Equal(1, PrometheusText.Value(text, "llm_orchestrator_metrics_database_up"));
        Assert.Equal(0, PrometheusText.Value(text, "llm_orchestrator_circuit_breaker_state{name=\"default\"}"));
        Assert.Equal(50, PrometheusText.Value(text, "llm_orchestrator_db_pool_max_connections"));
        Assert.True(PrometheusText.Value(text, "llm_orchestrator_db_pool_connections{state=\"idle\"}") + PrometheusText.Value(text, "llm_orchestrator_db_pool_connections{state=\"busy\"}") >= 1);
        Assert.True(PrometheusText.Has(text, "llm_orchestrator_db_pool_pending_requests"));
        Assert.True(PrometheusText.Has(text, "llm_orchestrator_db_pool_timeout_total"));
        Assert.True(PrometheusText.Value(text, "llm_orchestrator_llm_requests_total{provider=\"default\",outcome=\"success\"}") >= 3);
        Assert.True(PrometheusText.Value(text, "llm_orchestrator_llm_tokens_total{provider=\"default\",model=\"fake-model\",direction=\"output\"}") >= 3);
        Assert.True(PrometheusText.Value(text, "llm_orchestrator_step_duration_seconds_count{type=\"llm\",outcome=\"completed\"}") >= 3);
        Assert.True(PrometheusText.Value(text, "llm_orchestrator_db_replicas_connected") >= 1);

        var (exit, output) = await PromtoolAsync(text);
        Assert.True(exit == 0, $"promtool check metrics failed ({exit}):\n{output}\n---\n{text}");
    }

    [Fact]
    public async Task A_scrape_storm_reads_postgres_at_most_once_per_cache_period()
    {
        await fixture.Api.Http.GetStringAsync("/metrics");
        var before = await StatementCallsAsync();

        await Task.WhenAll(Enumerable.Range(0, 50).Select(_ => fixture.Api.Http.GetStringAsync("/metrics")));

        // 50 scrapes inside one 5 s cache period: at most two reads (one may straddle the period's end).
        Assert.InRange(await StatementCallsAsync() - before, 0, 2);
    }

    private async Task<long> StatementCallsAsync()
    {
        var text = await fixture.Api.Http.GetStringAsync("/metrics");
        return (long)PrometheusText.Value(text, "llm_orchestrator_metrics_database_reads_total");
    }

    private async Task MakeRunsInEveryStateAsync()
    {
        var tag = Definitions.Tag();
        var completed = await fixture.Api.StartAsync(Definitions.Chain(tag, 3), new JsonObject { ["text"] = "ok" });
        fixture.Llm.Fail($"STEP1-{tag}f", 400, "rejected");
        var failed = await fixture.Api.StartAsync(Definitions.Chain(tag + "f", 1), new JsonObject { ["text"] = "bad" });
        var running = await fixture.Api.StartAsync(Definitions.Waiting(tag), new JsonObject { ["text"] = "waits" });
        var cancelled = await fixture.Api.StartAsync(Definitions.Waiting(tag + "c"), new JsonObject { ["text"] = "cancel me" });
        await fixture.Api.WaitForStatusAsync(completed, "Completed");
        await fixture.Api.WaitForStatusAsync(failed, "Failed");
        await fixture.Api.WaitForWaitingAsync(running);
        Assert.Equal(HttpStatusCode.OK, (await fixture.Api.PostAsync($"/api/v1/workflows/{cancelled}/cancel", null)).Status);
        // A run is Pending only between its start and the claim of its first step (milliseconds): a row written
        // directly stands for one.
        await fixture.ScalarAsync(
            "INSERT INTO workflow_states (id, definition_name, definition_version, definition, status, input) VALUES (@id, 'pending-probe', 1, '{\"steps\":[]}', 'Pending', '{}') RETURNING 1",
            ("id", "pending-" + tag));
    }

    private async Task<string> ScrapeUntilAsync(Func<string, bool> condition)
    {
        var deadline = DateTimeOffset.UtcNow + TimeSpan.FromSeconds(30);
        string text;
        do
        {
            text = await fixture.Api.Http.GetStringAsync("/metrics");
            if (condition(text))
            {
                return text;
            }

            await Task.Delay(500);
        }
        while (DateTimeOffset.UtcNow < deadline);

        Assert.Fail("the metrics never reflected the runs:\n" + text);
        return text;
    }

    /// <summary><c>promtool check metrics</c> (Debian package <c>prometheus</c>; scripts/test.sh installs it) on the exposition.</summary>
    public static async Task<(int Exit, string Output)> PromtoolAsync(string exposition)
    {
        var promtool = new[] { "/usr/bin/promtool", "/usr/local/bin/promtool" }.FirstOrDefault(File.Exists);
        Assert.True(promtool is not null, "promtool is not installed (apt-get install prometheus; scripts/test.sh does this)");
        var info = new ProcessStartInfo(promtool!, ["check", "metrics"]) { RedirectStandardInput = true, RedirectStandardOutput = true, RedirectStandardError = true };
        using var process = Process.Start(info)!;
        await process.StandardInput.WriteAsync(exposition);
        process.StandardInput.Close();
        var output = await process.StandardOutput.ReadToEndAsync() + await process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync();
        return (process.ExitCode, output);
    }
}
