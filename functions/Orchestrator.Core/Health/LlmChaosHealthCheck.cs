using Microsoft.Extensions.Diagnostics.HealthChecks;
using Orchestrator.Core.Llm;

namespace Orchestrator.Core.Health;

/// <summary>Fault injection on is a degraded service: some LLM calls fail or stall on purpose (a drill), and the operator must see it.</summary>
public sealed class LlmChaosHealthCheck(LlmGateway gateway) : IHealthCheck
{
    public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        var providers = gateway.ChaosProviders;
        return Task.FromResult(providers.Count > 0
            ? HealthCheckResult.Degraded($"fault injection (Llm:Chaos) is on for provider(s) {string.Join(", ", providers)}: some calls fail or stall on purpose")
            : HealthCheckResult.Healthy("no fault injection"));
    }
}
