using Microsoft.DurableTask.Client;
using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace Orchestrator.Core.Health;

/// <summary>The durable task hub's storage answers a status query (of an instance that does not exist).</summary>
public sealed class DurableTaskHubHealthCheck(DurableTaskClient client) : IHealthCheck
{
    private const string ProbeInstance = "health-probe-nonexistent";

    public async Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        try
        {
            // The storage client may not observe the token while its network is partitioned; the check must still answer.
            await client.GetInstanceAsync(ProbeInstance, cancellationToken).WaitAsync(cancellationToken);
            return HealthCheckResult.Healthy($"task hub '{client.Name}' reachable");
        }
        catch (Exception ex) when (!cancellationToken.IsCancellationRequested)
        {
            return HealthCheckResult.Unhealthy($"task hub '{client.Name}' unreachable: " + ex.GetType().Name);
        }
    }
}
