using System.Text.Json.Nodes;
using Orchestrator.Server.Tests.Infrastructure;
using Xunit.Abstractions;

namespace Orchestrator.Server.Tests;

/// <summary>The runbook's "application crash" row: SIGKILL mid-step, restart, the run completes within the RTO.</summary>
[Collection(EndToEnd.Name)]
public sealed class CrashRecoveryTests(ITestOutputHelper output) : IAsyncLifetime
{
    private static readonly TimeSpan CrashRto = TimeSpan.FromSeconds(30);

    // A Server of its own per test: each test stops it.
    private readonly ServerFixture fixture = new();

    public Task InitializeAsync() => fixture.InitializeAsync();

    public Task DisposeAsync() => fixture.DisposeAsync();

    [Fact]
    public async Task Killing_the_server_during_step_2_of_4_loses_nothing_and_step_2_reruns_within_the_crash_RTO()
    {
        var tag = Definitions.Tag();
        fixture.Llm.Delay($"STEP2-{tag}", TimeSpan.FromSeconds(5));
        var id = await fixture.Api.StartAsync(Definitions.Chain(tag, 4), new JsonObject { ["text"] = "survive a crash" });

        await fixture.Llm.WaitForAsync($"STEP2-{tag}");
        await fixture.Server.KillAsync();
        fixture.Llm.Heal($"STEP2-{tag}");

        var restartedAt = DateTimeOffset.UtcNow;
        await fixture.Server.StartAsync();
        var rerun = await fixture.Llm.WaitForAsync($"STEP2-{tag}", count: 2, timeout: TimeSpan.FromSeconds(90));
        var recovery = rerun.At - restartedAt;
        output.WriteLine($"restart → step 2 re-executed: {recovery.TotalSeconds:0.0} s");
        Assert.True(recovery < CrashRto, $"step 2 re-ran {recovery.TotalSeconds:0.0} s after the restart; the crash RTO is {CrashRto.TotalSeconds} s");

        var run = await fixture.Api.WaitForStatusAsync(id, "Completed");
        Assert.Equal(4, run["progress"]!["completed"]!.GetValue<int>());

        Assert.Equal(1, fixture.Llm.CountContaining($"STEP1-{tag}"));
        Assert.Equal(2, fixture.Llm.CountContaining($"STEP2-{tag}"));
        Assert.Equal(1, fixture.Llm.CountContaining($"STEP3-{tag}"));
        Assert.Equal(1, fixture.Llm.CountContaining($"STEP4-{tag}"));

        // One row per step (the list holds each step once), all completed; only s2 was attempted twice.
        var rows = await StoredSteps.ReadAsync(fixture.Database, id);
        Assert.Equal(["s1", "s2", "s3", "s4"], rows.Select(r => r.Step));
        Assert.All(rows, r => Assert.Equal("Completed", r.Status));
        Assert.Equal(2, rows.Single(r => r.Step == "s2").Attempt);
        Assert.Equal(1, rows.Single(r => r.Step == "s1").Attempt);
    }
}
