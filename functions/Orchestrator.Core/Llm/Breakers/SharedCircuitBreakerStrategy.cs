using Polly;
using Polly.CircuitBreaker;

namespace Orchestrator.Core.Llm.Breakers;

/// <summary>The Polly strategy over a <see cref="SharedCircuitBreaker"/>: asks before each call, reports after it.</summary>
internal sealed class SharedCircuitBreakerStrategy(SharedCircuitBreaker breaker, Predicate<Outcome<object>> shouldHandle) : ResilienceStrategy
{
    protected override async ValueTask<Outcome<TResult>> ExecuteCore<TResult, TState>(
        Func<ResilienceContext, TState, ValueTask<Outcome<TResult>>> callback, ResilienceContext context, TState state)
    {
        BreakerPermit permit;
        try
        {
            permit = await breaker.AcquireAsync(context.CancellationToken).ConfigureAwait(context.ContinueOnCapturedContext);
        }
        catch (Exception ex) when (ex is BrokenCircuitException or OperationCanceledException)
        {
            return Outcome.FromException<TResult>(ex);
        }

        Outcome<TResult> outcome;
        try
        {
            outcome = await callback(context, state).ConfigureAwait(context.ContinueOnCapturedContext);
        }
        catch (Exception ex)
        {
            outcome = Outcome.FromException<TResult>(ex);
        }

        // A call its caller cancelled, or one a rate or concurrency limit refused before it was sent, says nothing of
        // the provider: it counts neither way, and a probe refused so gives its claim back.
        var result = outcome.Exception is OperationCanceledException && context.CancellationToken.IsCancellationRequested ? BreakerOutcome.Abandoned
            : outcome.Exception is Polly.RateLimiting.RateLimiterRejectedException ? BreakerOutcome.Abandoned
            : shouldHandle(outcome.Exception is { } exception ? Outcome.FromException<object>(exception) : Outcome.FromResult<object>(outcome.Result!)) ? BreakerOutcome.Failure
            : BreakerOutcome.Success;
        await breaker.ReportAsync(permit, result).ConfigureAwait(context.ContinueOnCapturedContext);
        return outcome;
    }
}
