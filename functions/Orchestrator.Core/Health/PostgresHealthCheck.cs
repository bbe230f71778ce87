using Microsoft.Extensions.Diagnostics.HealthChecks;
using Npgsql;

namespace Orchestrator.Core.Health;

/// <summary>The primary answers a query within the health check's time.</summary>
public sealed class PostgresHealthCheck(NpgsqlDataSource dataSource) : IHealthCheck
{
    public async Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        try
        {
            await using var command = dataSource.CreateCommand("SELECT pg_is_in_recovery()");
            var inRecovery = (bool)(await command.ExecuteScalarAsync(cancellationToken))!;
            return inRecovery
                ? HealthCheckResult.Unhealthy("connected to a read-only replica; writes will fail")
                : HealthCheckResult.Healthy("primary reachable");
        }
        catch (Exception ex) when (ex is NpgsqlException or TimeoutException or InvalidOperationException)
        {
            return HealthCheckResult.Unhealthy($"primary unreachable: {ex.Message}");
        }
    }
}
