using Polly;

namespace Orchestrator.Core.Llm.Breakers;

/// <summary>Adds a <see cref="SharedCircuitBreaker"/> to a Polly pipeline.</summary>
public static class SharedCircuitBreakerExtensions
{
    /// <summary>
    /// Refuses calls while <paramref name="breaker"/> is open with Polly's <see cref="Polly.CircuitBreaker.BrokenCircuitException"/>
    /// (its <c>RetryAfter</c> is the time until the break ends, or until another instance's probe lease ends), and counts
    /// each call let through: a failure when <paramref name="shouldHandle"/> says so, a success otherwise.
    /// </summary>
    public static TBuilder AddSharedCircuitBreaker<TBuilder>(this TBuilder builder, SharedCircuitBreaker breaker, Predicate<Outcome<object>> shouldHandle)
        where TBuilder : ResiliencePipelineBuilderBase
    {
        ArgumentNullException.ThrowIfNull(breaker);
        ArgumentNullException.ThrowIfNull(shouldHandle);
        return builder.AddStrategy(_ => new SharedCircuitBreakerStrategy(breaker, shouldHandle));
    }
}
