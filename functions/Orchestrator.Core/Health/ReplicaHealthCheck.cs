using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Options;
using Npgsql;
using Orchestrator.Core.Persistence;

namespace Orchestrator.Core.Health;

/// <summary>
/// The streaming replica answers, is in recovery, its WAL receiver is streaming, and its lag is under the limit.
/// Lag is zero when everything received has been replayed (an idle primary is not lag). A replica problem degrades
/// the service; it never makes it unhealthy, because the product writes to the primary only.
/// </summary>
public sealed class ReplicaHealthCheck(ReplicaDataSource replica, IOptions<HealthOptions> options) : IHealthCheck
{
    public async Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        if (replica.DataSource is null)
        {
            return HealthCheckResult.Healthy("no replica configured (Postgres:ReplicaConnectionString)");
        }

        try
        {
            await using var connection = await replica.DataSource.OpenConnectionAsync(cancellationToken);
            var status = await ReplicationQueries.ReadReplicaAsync(connection, cancellationToken);
            var inRecovery = status.InRecovery;
            var receiver = status.WalReceiver;
            var lag = status.LagWhileReplaying.TotalSeconds;
            var data = new Dictionary<string, object> { ["lagSeconds"] = Math.Round(lag, 3), ["walReceiver"] = receiver };
            if (!inRecovery)
            {
                return new HealthCheckResult(HealthStatus.Degraded, "the replica is not in recovery (promoted?): it no longer follows the primary", data: data);
            }

            if (receiver != "streaming")
            {
                return new HealthCheckResult(HealthStatus.Degraded, $"the replica's WAL receiver is '{receiver}', not streaming", data: data);
            }

            var limit = options.Value.ReplicaLagDegradedAfter.TotalSeconds;
            return lag > limit
                ? new HealthCheckResult(HealthStatus.Degraded, $"replication lag {lag:0.#} s is over {limit:0.#} s", data: data)
                : new HealthCheckResult(HealthStatus.Healthy, $"streaming, lag {lag:0.###} s", data: data);
        }
        catch (Exception ex) when (ex is NpgsqlException or TimeoutException or InvalidOperationException or OperationCanceledException && !cancellationToken.IsCancellationRequested)
        {
            return new HealthCheckResult(HealthStatus.Degraded, "replica unreachable: " + HealthText.Describe(ex));
        }
    }
}
