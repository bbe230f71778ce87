using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Time.Testing;
using Orchestrator.Core.Monitoring;
using Orchestrator.Core.Monitoring.Checks;
using Orchestrator.Core.Tests.Fakes;

namespace Orchestrator.Core.Tests.Monitoring;

/// <summary>Running with no checkpoint for the threshold is stuck; a waiting approval and a fresh run are not.</summary>
public sealed class StuckWorkflowsCheckTests : IAsyncLifetime
{
    private static readonly DateTimeOffset Now = new(2025, 11, 14, 12, 30, 0, TimeSpan.Zero);

    private readonly PostgresDatabase database = new();
    private readonly FakeTimeProvider time = new(Now);

    public Task InitializeAsync() => database.InitializeAsync();

    public Task DisposeAsync() => database.DisposeAsync();

    [Fact]
    public async Task Only_the_run_with_no_checkpoint_for_the_threshold_is_listed_with_the_step_it_waits_for()
    {
        var source = database.DataSource;
        await WorkflowRows.RunAsync(source, "run-stuck", "Running", Now.AddMinutes(-40), lastCheckpoint: Now.AddMinutes(-29));
        await WorkflowRows.StepAsync(source, "run-stuck", "summarize", "llm", "Running", new DateTimeOffset(2025, 11, 14, 12, 1, 7, TimeSpan.Zero), attempt: 2);
        await WorkflowRows.RunAsync(source, "run-approval", "Running", Now.AddMinutes(-40), lastCheckpoint: Now.AddMinutes(-30));
        await WorkflowRows.StepAsync(source, "run-approval", "review", "approval", "Waiting", Now.AddMinutes(-30), waitEvent: "approve", waitUntil: Now.AddHours(1));
        await WorkflowRows.RunAsync(source, "run-fresh", "Running", Now.AddMinutes(-40), lastCheckpoint: Now.AddMinutes(-1));
        await WorkflowRows.RunAsync(source, "run-done", "Completed", Now.AddHours(-2), lastCheckpoint: Now.AddHours(-2), completedAt: Now.AddHours(-2));

        var reading = Assert.Single(await Check().EvaluateAsync(default));

        Assert.Equal(StuckWorkflowsCheck.Key, reading.DedupKey);
        Assert.True(reading.Firing);
        Assert.Equal("1", reading.Fact("Stuck runs"));
        Assert.Equal("step summarize (llm) since 12:01:07, attempt 2; no checkpoint for 29 min", reading.Fact("Run run-stuck"));
        Assert.DoesNotContain(reading.Facts, f => f.Key is "Run run-approval" or "Run run-fresh" or "Run run-done");
        Assert.Contains("run-stuck", reading.Title, StringComparison.Ordinal);
        Assert.Contains("curl http://localhost:8080/api/v1/workflows/run-stuck", reading.NextStep, StringComparison.Ordinal);
    }

    [Fact]
    public async Task An_approval_past_its_own_timeout_is_stuck_and_a_run_created_but_never_checkpointed_counts_from_its_creation()
    {
        var source = database.DataSource;
        await WorkflowRows.RunAsync(source, "run-overdue", "Running", Now.AddMinutes(-40), lastCheckpoint: Now.AddMinutes(-30));
        await WorkflowRows.StepAsync(source, "run-overdue", "review", "approval", "Waiting", Now.AddMinutes(-30), waitEvent: "approve", waitUntil: Now.AddMinutes(-15));
        await WorkflowRows.RunAsync(source, "run-new", "Running", Now.AddMinutes(-5));
        await WorkflowRows.RunAsync(source, "run-old", "Running", Now.AddMinutes(-50));

        var reading = Assert.Single(await Check().EvaluateAsync(default));

        Assert.Equal("2", reading.Fact("Stuck runs"));
        Assert.StartsWith("step review (approval) waiting for event 'approve'", reading.Fact("Run run-overdue"), StringComparison.Ordinal);
        Assert.Equal("no step running (demo), no checkpoint for 50 min", reading.Fact("Run run-old"));
        Assert.Equal(["Stuck runs", "No checkpoint for", "Run run-old", "Run run-overdue"], reading.Facts.Select(f => f.Key));
    }

    [Fact]
    public async Task No_stuck_run_is_a_clear_reading()
    {
        await WorkflowRows.RunAsync(database.DataSource, "run-fresh", "Running", Now.AddMinutes(-2), lastCheckpoint: Now.AddMinutes(-1));

        var reading = Assert.Single(await Check().EvaluateAsync(default));

        Assert.False(reading.Firing);
        Assert.Equal("0", reading.Fact("Stuck runs"));
    }

    private StuckWorkflowsCheck Check() =>
        new(database.DataSource, Options.Create(new StuckWorkflowsMonitorOptions { StuckAfter = TimeSpan.FromMinutes(10) }), time, NullLogger<StuckWorkflowsCheck>.Instance);
}
