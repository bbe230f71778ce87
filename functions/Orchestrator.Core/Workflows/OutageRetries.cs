using Microsoft.DurableTask;
using Orchestrator.Core.Resilience;

namespace Orchestrator.Core.Workflows;

/// <summary>
/// Durable retry handlers for the orchestration's activities. A step first follows its own retry policy; when that
/// is spent and the last failure was an outage of a dependency (PostgreSQL, the LLM provider unreachable or its
/// breaker open), it keeps retrying for the run's <see cref="OutagePolicy.Window"/>. Failures of the step's own work
/// (a rejected request, a template error, an invalid structured reply) are never retried by this.
/// A failure that says when to come back (<see cref="Llm.RetryAfterHint"/>) is retried no sooner than that.
/// The handlers are orchestrator code: they use only the retry context and durable timers, so replays agree.
/// </summary>
internal static class OutageRetries
{
    private static readonly TimeSpan FirstOutageInterval = TimeSpan.FromSeconds(1);

    /// <summary>
    /// The Azure Storage task hub delays a timer's message in whole seconds (the queue's visibility timeout), so a
    /// timer may fire up to a second early; a wait that must not be cut short gets this much more.
    /// </summary>
    internal static readonly TimeSpan TimerGranularity = TimeSpan.FromSeconds(1);

    public static TaskOptions ForStep(int maxAttempts, TimeSpan firstInterval, double backoff, TimeSpan maxInterval, OutagePolicy outage) =>
        TaskOptions.FromRetryHandler(async retry =>
        {
            if (!StepFailures.IsRetryable(retry.LastFailure))
            {
                return false;
            }

            TimeSpan delay;
            if (retry.LastAttemptNumber < maxAttempts)
            {
                delay = Backoff(firstInterval, backoff, maxInterval, retry.LastAttemptNumber);
            }
            else if (DependencyFailures.IsOutage(retry.LastFailure) && retry.TotalRetryTime < outage.Window)
            {
                delay = outage.MaxInterval;
            }
            else
            {
                return false;
            }

            // The provider (Retry-After), the breaker (end of its break) or a rate limit named the earliest moment the
            // next attempt is worth making: it comes no sooner, on a durable timer (no compute while waiting).
            if (Llm.RetryAfterHint.Read(retry.LastFailure) is { } after && after + TimerGranularity > delay)
            {
                delay = after + TimerGranularity;
            }

            await retry.OrchestrationContext.CreateTimer(delay, retry.CancellationToken);
            return true;
        });

    /// <summary>For the activities that only record (a step without a call, the run's end): outages only.</summary>
    public static TaskOptions ForRecording(OutagePolicy outage) =>
        TaskOptions.FromRetryHandler(async retry =>
        {
            if (!DependencyFailures.IsOutage(retry.LastFailure) || retry.TotalRetryTime >= outage.Window)
            {
                return false;
            }

            await retry.OrchestrationContext.CreateTimer(Backoff(FirstOutageInterval, 2, outage.MaxInterval, retry.LastAttemptNumber), retry.CancellationToken);
            return true;
        });

    /// <summary>The pause after the <paramref name="failures"/>-th failure: first × backoff^(failures−1), capped.</summary>
    internal static TimeSpan Backoff(TimeSpan first, double backoff, TimeSpan max, int failures)
    {
        var ticks = first.Ticks * Math.Pow(backoff, Math.Max(0, failures - 1));
        return ticks >= max.Ticks || double.IsInfinity(ticks) ? max : TimeSpan.FromTicks((long)ticks);
    }
}
