using System.Diagnostics;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using Npgsql;
using Orchestrator.Core.Resilience;

namespace Orchestrator.Core.Tests.Resilience;

/// <summary>
/// An activity's database call waits out a short outage instead of failing the step, gives up with a message an
/// operator can act on when the window runs out, and never retries a failure of the query itself. Real time, with a
/// window of one or two seconds; the bounds are generous so a loaded machine does not fail them.
/// </summary>
public sealed class DatabaseRetryTests
{
    [Fact]
    public async Task A_call_that_fails_transiently_twice_returns_its_result_on_the_third_attempt()
    {
        var attempts = 0;

        var result = await Retry(TimeSpan.FromSeconds(2)).ExecuteAsync(
            "claiming a step",
            _ => ++attempts <= 2 ? throw Unreachable() : Task.FromResult("claimed"),
            CancellationToken.None);

        Assert.Equal(("claimed", 3), (result, attempts));
    }

    [Fact]
    public async Task A_failure_of_the_query_itself_is_thrown_at_once()
    {
        var attempts = 0;
        var violation = new PostgresException("duplicate key value violates unique constraint", "ERROR", "ERROR", "23505");

        var thrown = await Assert.ThrowsAsync<PostgresException>(() => Retry(TimeSpan.FromSeconds(2)).ExecuteAsync<int>(
            "recording a step's result",
            _ =>
            {
                attempts++;
                throw violation;
            },
            CancellationToken.None));

        Assert.Same(violation, thrown);
        Assert.Equal(1, attempts);
    }

    [Fact]
    public async Task A_database_that_stays_away_ends_in_dependency_unavailable_naming_the_work_and_the_last_error_after_the_window()
    {
        var attempts = 0;
        var clock = Stopwatch.StartNew();

        var thrown = await Assert.ThrowsAsync<DependencyUnavailableException>(() => Retry(TimeSpan.FromSeconds(1)).ExecuteAsync(
            "recording a step's result",
            _ =>
            {
                attempts++;
                return Task.FromException(Unreachable());
            },
            CancellationToken.None));

        clock.Stop();
        Assert.Contains("recording a step's result", thrown.Message);
        Assert.Contains("Failed to connect to 127.0.0.1:5432", thrown.Message);
        Assert.IsType<NpgsqlException>(thrown.InnerException);
        Assert.InRange(clock.Elapsed, TimeSpan.FromSeconds(0.9), TimeSpan.FromSeconds(10));
        // 50 ms between attempts at most: a one-second outage is tried many times, not once or twice.
        Assert.True(attempts >= 5, $"only {attempts} attempts in the window");
    }

    [Fact]
    public async Task Cancelling_the_caller_stops_the_retries_before_the_window_runs_out()
    {
        var attempts = 0;
        using var cancellation = new CancellationTokenSource(TimeSpan.FromMilliseconds(300));
        var clock = Stopwatch.StartNew();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => Retry(TimeSpan.FromSeconds(30)).ExecuteAsync(
            "claiming a step",
            _ =>
            {
                attempts++;
                return Task.FromException(Unreachable());
            },
            cancellation.Token));

        clock.Stop();
        var attemptsWhenStopped = attempts;
        Assert.InRange(clock.Elapsed, TimeSpan.Zero, TimeSpan.FromSeconds(10));
        await Task.Delay(200);
        Assert.Equal(attemptsWhenStopped, attempts);
    }

    private static DatabaseRetry Retry(TimeSpan window) =>
        new(Options.Create(new ResilienceOptions { DatabaseRetryWindow = window, DatabaseRetryMaxDelay = TimeSpan.FromMilliseconds(50) }),
            TimeProvider.System, NullLogger<DatabaseRetry>.Instance);

    private static NpgsqlException Unreachable() =>
        new("Failed to connect to 127.0.0.1:5432", new System.Net.Sockets.SocketException((int)System.Net.Sockets.SocketError.ConnectionRefused));
}
