using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace Orchestrator.Core.Health;

/// <summary>
/// Answers within <paramref name="limit"/> even when the check it wraps does not observe its cancellation token — a
/// database or storage call through a partitioned network hangs until its own timeout, and <c>/health</c> must not.
/// </summary>
public sealed class TimeLimitedHealthCheck(IHealthCheck inner, TimeSpan limit) : IHealthCheck
{
    public async Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        try
        {
            return await inner.CheckHealthAsync(context, cancellationToken).WaitAsync(limit, cancellationToken);
        }
        catch (TimeoutException)
        {
            return new HealthCheckResult(context.Registration.FailureStatus, FormattableString.Invariant($"no answer within {limit.TotalSeconds:0.#} s"));
        }
    }
}
