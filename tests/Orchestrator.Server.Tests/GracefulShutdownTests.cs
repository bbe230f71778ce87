using System.Diagnostics;
using System.Net;
using System.Text.Json.Nodes;
using Orchestrator.Server.Tests.Infrastructure;
using Xunit.Abstractions;

namespace Orchestrator.Server.Tests;

/// <summary>
/// SIGTERM, as <c>docker stop</c>, <c>kubectl rollout restart</c> and a scale-down send it: the Server takes no new
/// work, lets the step in flight finish and be recorded, and exits 0; the run goes on elsewhere without repeating it.
/// </summary>
[Collection(EndToEnd.Name)]
public sealed class GracefulShutdownTests(ITestOutputHelper output) : IAsyncLifetime
{
    // A Server of its own per test: each test stops it.
    private readonly ServerFixture fixture = new();

    public Task InitializeAsync() => fixture.InitializeAsync();

    public Task DisposeAsync() => fixture.DisposeAsync();

    [Fact]
    public async Task A_step_in_flight_at_SIGTERM_finishes_and_is_recorded_before_the_Server_exits_and_is_not_run_again()
    {
        var tag = Definitions.Tag();
        var step2 = fixture.Llm.Hold($"STEP2-{tag}");
        var id = await fixture.Api.StartAsync(Definitions.Chain(tag, 3), new JsonObject { ["text"] = "stop gracefully" });

        await fixture.Llm.WaitForAsync($"STEP2-{tag}");
        var signalled = Stopwatch.StartNew();
        fixture.Server.Terminate();

        // Draining: still running while the step's LLM call is outstanding; HTTP has stopped (or says not ready), so a
        // load balancer sends its requests to another instance.
        await Task.Delay(TimeSpan.FromSeconds(3));
        Assert.False(fixture.Server.HasExited, $"the Server exited with a step in flight instead of letting it finish:\n{fixture.Server.Output}");
        var readiness = await ReadinessAsync();
        output.WriteLine($"/health/ready while draining: {readiness?.ToString() ?? "no answer (HTTP already stopped)"}");
        Assert.NotEqual(HttpStatusCode.OK, readiness);

        step2.SetResult();
        var exitCode = await fixture.Server.WaitForExitAsync(TimeSpan.FromSeconds(60));
        output.WriteLine($"SIGTERM → exit: {signalled.Elapsed.TotalSeconds:0.0} s (the held reply was released after 3 s)");
        Assert.True(exitCode == 0, $"expected a clean exit (0) after the drain, got {exitCode?.ToString() ?? "none (still running)"}:\n{fixture.Server.Output}");
        Assert.Contains("waiting for 1 step(s)", fixture.Server.Output);

        // Before anything else runs: step 2 is recorded as completed, once, by the stopped Server; step 3 was not started.
        var atExit = await StoredSteps.ReadAsync(fixture.Database, id);
        Assert.Equal("Completed", atExit.Single(s => s.Step == "s2").Status);
        Assert.Equal(1, atExit.Single(s => s.Step == "s2").Attempt);
        Assert.DoesNotContain(atExit, s => s.Step == "s3");
        Assert.Equal(0, fixture.Llm.CountContaining($"STEP3-{tag}"));

        // A new instance (same worker id, as a restarted container) finishes the run without repeating step 2.
        await fixture.Server.StartAsync();
        var run = await fixture.Api.WaitForStatusAsync(id, "Completed");
        Assert.Equal(3, run["progress"]!["completed"]!.GetValue<int>());

        Assert.Equal(1, fixture.Llm.CountContaining($"STEP1-{tag}"));
        Assert.Equal(1, fixture.Llm.CountContaining($"STEP2-{tag}"));
        Assert.Equal(1, fixture.Llm.CountContaining($"STEP3-{tag}"));
        var steps = await StoredSteps.ReadAsync(fixture.Database, id);
        Assert.Equal(["s1", "s2", "s3"], steps.Select(s => s.Step));
        Assert.All(steps, s => Assert.Equal(("Completed", 1), (s.Status, s.Attempt)));
    }

    [Fact]
    public async Task An_idle_Server_stops_at_once_on_SIGTERM()
    {
        var signalled = Stopwatch.StartNew();
        fixture.Server.Terminate();
        var exitCode = await fixture.Server.WaitForExitAsync(TimeSpan.FromSeconds(30));
        output.WriteLine($"idle SIGTERM → exit: {signalled.Elapsed.TotalSeconds:0.0} s");
        Assert.True(exitCode == 0, $"expected exit 0, got {exitCode?.ToString() ?? "none (still running)"}:\n{fixture.Server.Output}");
        Assert.Contains("no work in flight", fixture.Server.Output);
    }

    private async Task<HttpStatusCode?> ReadinessAsync()
    {
        using var http = new HttpClient { BaseAddress = fixture.Server.BaseAddress, Timeout = TimeSpan.FromSeconds(5) };
        try
        {
            using var response = await http.GetAsync("/health/ready");
            return response.StatusCode;
        }
        catch (Exception ex) when (ex is HttpRequestException or TaskCanceledException)
        {
            return null;
        }
    }
}
