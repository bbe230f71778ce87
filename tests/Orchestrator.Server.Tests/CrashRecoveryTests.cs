using System.Text.Json.Nodes;
using Orchestrator.Server.Tests.Infrastructure;
using Xunit.Abstractions;

namespace Orchestrator.Server.Tests;

/// <summary>The runbook's "application crash" row: SIGKILL mid-step, restart, the run completes within the RTO.</summary>
[Collection(EndToEnd.Name)]
public sealed class CrashRecoveryTests(ITestOutputHelper output) : IAsyncLifetime
{
    private static readonly TimeSpan CrashRto = TimeSpan.FromSeconds(30);
    private readonly string database = TestEnvironment.NewDatabase("orch_crash");
    private readonly string taskHub = "crash" + Guid.NewGuid().ToString("N")[..10];
    private FakeOpenAiServer llm = null!;
    private ServerProcess server = null!;

    public async Task InitializeAsync()
    {
        llm = await FakeOpenAiServer.StartAsync();
        server = new ServerProcess(database, taskHub, llm.BaseUrl);
        await server.StartAsync();
    }

    public async Task DisposeAsync()
    {
        await server.DisposeAsync();
        await llm.DisposeAsync();
        await TestEnvironment.DropDatabaseAsync(database);
    }

    [Fact]
    public async Task Killing_the_server_during_step_2_of_4_loses_nothing_and_step_2_reruns_within_the_crash_RTO()
    {
        var tag = Definitions.Tag();
        llm.Delay($"STEP2-{tag}", TimeSpan.FromSeconds(5));
        string id;
        using (var api = new OrchestratorApi(server.BaseAddress))
        {
            id = await api.StartAsync(Definitions.Chain(tag, 4), new JsonObject { ["text"] = "survive a crash" });
        }

        await llm.WaitForAsync($"STEP2-{tag}");
        await server.KillAsync();
        llm.Heal($"STEP2-{tag}");

        var restartedAt = DateTimeOffset.UtcNow;
        await server.StartAsync();
        var rerun = await llm.WaitForAsync($"STEP2-{tag}", count: 2, timeout: TimeSpan.FromSeconds(90));
        var recovery = rerun.At - restartedAt;
        output.WriteLine($"restart → step 2 re-executed: {recovery.TotalSeconds:0.0} s");
        Assert.True(recovery < CrashRto, $"step 2 re-ran {recovery.TotalSeconds:0.0} s after the restart; the crash RTO is {CrashRto.TotalSeconds} s");

        using (var api = new OrchestratorApi(server.BaseAddress))
        {
            var run = await api.WaitForStatusAsync(id, "Completed");
            Assert.Equal(4, run["progress"]!["completed"]!.GetValue<int>());
        }

        Assert.Equal(1, llm.CountContaining($"STEP1-{tag}"));
        Assert.Equal(2, llm.CountContaining($"STEP2-{tag}"));
        Assert.Equal(1, llm.CountContaining($"STEP3-{tag}"));
        Assert.Equal(1, llm.CountContaining($"STEP4-{tag}"));

        // One row per step (the list holds each step once), all completed; only s2 was attempted twice.
        var rows = await StoredSteps.ReadAsync(database, id);
        Assert.Equal(["s1", "s2", "s3", "s4"], rows.Select(r => r.Step));
        Assert.All(rows, r => Assert.Equal("Completed", r.Status));
        Assert.Equal(2, rows.Single(r => r.Step == "s2").Attempt);
        Assert.Equal(1, rows.Single(r => r.Step == "s1").Attempt);
    }
}
