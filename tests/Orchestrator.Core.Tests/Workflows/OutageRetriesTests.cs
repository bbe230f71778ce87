using Microsoft.DurableTask;
using Orchestrator.Core.Llm;
using Orchestrator.Core.Resilience;
using Orchestrator.Core.Templates;
using Orchestrator.Core.Tests.Fakes;
using Orchestrator.Core.Workflows;

namespace Orchestrator.Core.Tests.Workflows;

/// <summary>
/// A step follows its own retry policy; past it, an outage of a dependency is retried for the run's outage window
/// and then fails the run; a failure of the step's own work is never retried past its policy, and a permanent one
/// not at all. The pause between attempts is a durable timer, so it survives a restart and replays alike.
/// </summary>
public sealed class OutageRetriesTests
{
    private static readonly OutagePolicy Outage = new(Window: TimeSpan.FromMinutes(30), MaxInterval: TimeSpan.FromSeconds(10));

    // Four attempts, 1 s then ×3, never more than 5 s apart: 1 s, 3 s, 5 s.
    private static readonly TaskOptions Step =
        OutageRetries.ForStep(maxAttempts: 4, firstInterval: TimeSpan.FromSeconds(1), backoff: 3, maxInterval: TimeSpan.FromSeconds(5), Outage);

    private readonly OrchestrationContextFake context = new() { TimersFire = true };

    [Theory]
    [InlineData(1, 1)]
    [InlineData(2, 3)]
    [InlineData(3, 5)] // 9 s, capped
    public async Task Within_its_attempts_a_step_is_retried_after_its_backoff(int failedAttempt, int expectedSeconds)
    {
        var retried = await Handle(Step, failedAttempt, Failure(typeof(InvalidOperationException)), TimeSpan.FromSeconds(5));

        Assert.True(retried);
        Assert.Equal(new[] { TimeSpan.FromSeconds(expectedSeconds) }, context.TimerDelays);
    }

    [Fact]
    public async Task A_step_whose_attempts_are_spent_keeps_retrying_an_outage_at_the_outage_interval_within_the_window()
    {
        var retried = await Handle(Step, 40, Failure(typeof(DependencyUnavailableException)), TimeSpan.FromMinutes(29));

        Assert.True(retried);
        Assert.Equal(new[] { Outage.MaxInterval }, context.TimerDelays);
    }

    [Fact]
    public async Task An_outage_found_beneath_the_activity_failure_is_retried_too()
    {
        var retried = await Handle(
            Step, 4, Failure(typeof(TaskFailedException), inner: Failure(typeof(LlmUnavailableException))), TimeSpan.FromMinutes(1));

        Assert.True(retried);
    }

    [Fact]
    public async Task An_outage_that_outlasts_the_window_fails_the_step()
    {
        var retried = await Handle(Step, 200, Failure(typeof(DependencyUnavailableException)), Outage.Window);

        Assert.False(retried);
        Assert.Empty(context.TimerDelays);
    }

    [Fact]
    public async Task A_step_whose_attempts_are_spent_on_its_own_failure_is_not_retried()
    {
        var retried = await Handle(Step, 4, Failure(typeof(InvalidOperationException)), TimeSpan.FromSeconds(10));

        Assert.False(retried);
        Assert.Empty(context.TimerDelays);
    }

    [Theory]
    [InlineData(typeof(LlmRequestRejectedException))]
    [InlineData(typeof(TemplateException))]
    public async Task A_permanent_failure_is_never_retried_even_on_the_first_attempt(Type permanent)
    {
        Assert.False(await Handle(Step, 1, Failure(permanent), TimeSpan.Zero));
        Assert.False(await Handle(Step, 1, Failure(typeof(TaskFailedException), inner: Failure(permanent)), TimeSpan.Zero));
        Assert.Empty(context.TimerDelays);
    }

    [Theory]
    [InlineData(1, 1)]
    [InlineData(3, 4)]
    [InlineData(30, 10)] // capped at the outage interval
    public async Task Recording_retries_an_outage_with_backoff_within_the_window(int failedAttempt, int expectedSeconds)
    {
        var retried = await Handle(OutageRetries.ForRecording(Outage), failedAttempt, Failure(typeof(Npgsql.NpgsqlException)), TimeSpan.FromMinutes(5));

        Assert.True(retried);
        Assert.Equal(new[] { TimeSpan.FromSeconds(expectedSeconds) }, context.TimerDelays);
    }

    [Fact]
    public async Task Recording_does_not_retry_a_failure_that_is_not_an_outage_nor_an_outage_past_the_window()
    {
        var recording = OutageRetries.ForRecording(Outage);

        Assert.False(await Handle(recording, 1, Failure(typeof(InvalidOperationException)), TimeSpan.Zero));
        Assert.False(await Handle(recording, 1, Failure(typeof(DependencyUnavailableException)), Outage.Window));
        Assert.Empty(context.TimerDelays);
    }

    [Theory]
    [InlineData(1, 3)] // the policy's 1 s gives way to the provider's 3 s (and the second a task hub timer may fire early)
    [InlineData(40, 25)] // past the attempts: the outage interval (10 s) gives way to the breaker's remaining 25 s
    public async Task A_failure_that_says_when_to_come_back_is_retried_no_sooner(int failedAttempt, int retryAfterSeconds)
    {
        var message = RetryAfterHint.Append("default failed (HTTP 429): slow down", TimeSpan.FromSeconds(retryAfterSeconds));
        var failure = new TaskFailureDetails(typeof(TaskFailedException).FullName!, "activity failed", null,
            new TaskFailureDetails(typeof(LlmUnavailableException).FullName!, message, null, null, null), null);

        var retried = await Handle(Step, failedAttempt, failure, TimeSpan.FromMinutes(1));

        Assert.True(retried);
        Assert.Equal(new[] { TimeSpan.FromSeconds(retryAfterSeconds) + OutageRetries.TimerGranularity }, context.TimerDelays);
    }

    [Fact]
    public async Task A_hint_shorter_than_the_policy_pause_does_not_shorten_it()
    {
        var failure = new TaskFailureDetails(typeof(LlmUnavailableException).FullName!, RetryAfterHint.Append("busy", TimeSpan.FromMilliseconds(200)), null, null, null);

        Assert.True(await Handle(Step, 2, failure, TimeSpan.FromSeconds(5)));
        Assert.Equal(new[] { TimeSpan.FromSeconds(3) }, context.TimerDelays);
    }

    [Theory]
    [InlineData(64)]
    [InlineData(5_000)]
    [InlineData(int.MaxValue)]
    public void The_pause_after_very_many_failures_is_the_cap(int failures) =>
        Assert.Equal(TimeSpan.FromSeconds(10), OutageRetries.Backoff(TimeSpan.FromSeconds(1), 2, TimeSpan.FromSeconds(10), failures));

    private Task<bool> Handle(TaskOptions options, int failedAttempt, TaskFailureDetails failure, TimeSpan totalRetryTime)
    {
        var handler = options.Retry?.Handler ?? throw new InvalidOperationException("the options carry no retry handler");
        return handler(new RetryContext(context.Object, failedAttempt, failure, totalRetryTime, CancellationToken.None));
    }

    private static TaskFailureDetails Failure(Type errorType, TaskFailureDetails? inner = null) =>
        new(errorType.FullName!, $"{errorType.Name} happened", null, inner, null);
}
