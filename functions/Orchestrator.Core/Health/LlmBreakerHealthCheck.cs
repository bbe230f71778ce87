using Microsoft.Extensions.Diagnostics.HealthChecks;
using Orchestrator.Core.Llm;
using Polly.CircuitBreaker;

namespace Orchestrator.Core.Health;

/// <summary>
/// An open (or half-open) LLM circuit breaker is a degraded service: that provider's steps fall back or wait. Names
/// the breakers and whether the state is the cluster's or, while PostgreSQL does not answer, this instance's own.
/// </summary>
public sealed class LlmBreakerHealthCheck(CircuitBreakerRegistry breakers) : IHealthCheck
{
    public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        var open = breakers.States().Where(b => b.State != CircuitState.Closed).ToList();
        var scope = breakers.IsShared ? "cluster-wide" : "on this instance's own counts (PostgreSQL does not answer)";
        var data = open.ToDictionary(b => b.Name, b => (object)b.State.ToString());
        return Task.FromResult(open.Count > 0
            ? HealthCheckResult.Degraded(
                $"circuit breaker(s) {string.Join(", ", open.Select(b => $"{b.Name} ({b.State})"))} {scope}: their steps fall back or wait; POST /admin/circuit-breaker/reset closes them",
                data: data)
            : HealthCheckResult.Healthy($"every LLM circuit breaker closed ({scope})"));
    }
}
