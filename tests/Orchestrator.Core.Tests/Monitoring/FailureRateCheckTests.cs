using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Time.Testing;
using Orchestrator.Core.Incidents;
using Orchestrator.Core.Monitoring;
using Orchestrator.Core.Monitoring.Checks;
using Orchestrator.Core.Tests.Fakes;

namespace Orchestrator.Core.Tests.Monitoring;

/// <summary>The failed share of the runs that finished in the window; cancelled runs are not counted; too few runs say nothing.</summary>
public sealed class FailureRateCheckTests : IAsyncLifetime
{
    private static readonly DateTimeOffset Now = new(2025, 11, 14, 12, 30, 0, TimeSpan.Zero);

    private readonly PostgresDatabase database = new();
    private int runs;

    public Task InitializeAsync() => database.InitializeAsync();

    public Task DisposeAsync() => database.DisposeAsync();

    [Fact]
    public async Task More_than_half_of_the_recent_runs_failing_is_a_P1_with_the_most_frequent_errors()
    {
        await FinishedAsync("Failed", 4, "step summarize failed: provider timeout");
        await FinishedAsync("Failed", 2, "budget exceeded");
        await FinishedAsync("Completed", 4);
        await FinishedAsync("Cancelled", 5);
        await FinishedAsync("Failed", 10, "long ago", Now.AddHours(-2));

        var reading = Assert.Single(await Check(minimumRuns: 10).EvaluateAsync(default));

        Assert.Equal(FailureRateCheck.Key, reading.DedupKey);
        Assert.True(reading.Firing);
        Assert.Equal(Severity.P1, reading.Severity);
        Assert.Equal("6", reading.Fact("Failed runs"));
        Assert.Equal("10", reading.Fact("Finished runs"));
        Assert.Equal("60 %", reading.Fact("Failure ratio"));
        Assert.Equal("15 min", reading.Fact("Window"));
        Assert.Equal("5", reading.Fact("Cancelled runs (not counted)"));
        Assert.Equal("4 × step summarize failed: provider timeout", reading.Fact("Top error 1"));
        Assert.Equal("2 × budget exceeded", reading.Fact("Top error 2"));
    }

    [Fact]
    public async Task Half_or_fewer_failing_is_clear()
    {
        await FinishedAsync("Failed", 5, "boom");
        await FinishedAsync("Completed", 5);

        var reading = Assert.Single(await Check(minimumRuns: 10).EvaluateAsync(default));

        Assert.False(reading.Firing);
        Assert.Equal("50 %", reading.Fact("Failure ratio"));
    }

    [Fact]
    public async Task Fewer_finished_runs_than_the_minimum_say_nothing_about_a_rate()
    {
        await FinishedAsync("Failed", 9, "boom");

        var reading = Assert.Single(await Check(minimumRuns: 10).EvaluateAsync(default));

        Assert.False(reading.Firing);
        Assert.Equal("100 %", reading.Fact("Failure ratio"));
    }

    private async Task FinishedAsync(string status, int count, string? error = null, DateTimeOffset? at = null)
    {
        for (var i = 0; i < count; i++)
        {
            var finished = at ?? Now.AddMinutes(-5);
            await WorkflowRows.RunAsync(database.DataSource, $"run-{runs++}", status, finished.AddMinutes(-1), finished, finished, error);
        }
    }

    private FailureRateCheck Check(int minimumRuns) =>
        new(database.DataSource, Options.Create(new FailureRateMonitorOptions { MinimumRuns = minimumRuns, Window = TimeSpan.FromMinutes(15) }),
            new FakeTimeProvider(Now), NullLogger<FailureRateCheck>.Instance);
}
