using Microsoft.Extensions.Diagnostics.HealthChecks;
using Orchestrator.Core.Operations;

namespace Orchestrator.Core.Health;

/// <summary>Maintenance mode on is a degraded service: new starts are refused, everything else works.</summary>
public sealed class MaintenanceHealthCheck(ClusterState cluster) : IHealthCheck
{
    public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        var state = cluster.Maintenance;
        return Task.FromResult(state.Enabled
            ? HealthCheckResult.Degraded($"maintenance mode on since {state.Since:u}: new workflows are refused")
            : HealthCheckResult.Healthy("maintenance mode off"));
    }
}
