using System.Globalization;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Options;
using Npgsql;
using Orchestrator.Core.Health;
using Orchestrator.Core.Resilience;

namespace Orchestrator.Core.Incidents.Notices;

/// <summary>
/// <c>incident-notices</c>: degraded when a receiver rejected a notice within the last day (named by channel and
/// status code, never by URL) or when a notice has waited more than five minutes to go out; healthy otherwise.
/// </summary>
public sealed class IncidentNoticesHealthCheck(NpgsqlDataSource dataSource, IOptions<NoticeOptions> options, TimeProvider time) : IHealthCheck
{
    public const string Name = "incident-notices";

    public static readonly TimeSpan RejectionWindow = TimeSpan.FromHours(24);

    public static readonly TimeSpan PendingLimit = TimeSpan.FromMinutes(5);

    private const string Sql =
        """
        SELECT channel, count(*), (array_agg(last_status_code ORDER BY id DESC))[1], max(last_attempt_at), NULL::timestamptz
          FROM incident_notices WHERE status = 'rejected' AND last_attempt_at > $1 GROUP BY channel
        UNION ALL
        SELECT channel, count(*), NULL, NULL, min(created_at)
          FROM incident_notices WHERE status = 'pending' GROUP BY channel
        ORDER BY 1
        """;

    public async Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        var now = time.GetUtcNow();
        var limit = options.Value.DatabaseTimeout;
        List<(string Channel, long Count, int? Code, DateTimeOffset? RejectedAt, DateTimeOffset? OldestPending)> rows;
        try
        {
            rows = await BoundedStatement.RunAsync(dataSource, limit, time, async (connection, ct) =>
            {
                await using var command = new NpgsqlCommand(Sql, connection) { CommandTimeout = BoundedStatement.CommandTimeoutSeconds(limit) };
                command.Parameters.Add(new NpgsqlParameter<DateTimeOffset> { TypedValue = now - RejectionWindow });
                await using var reader = await command.ExecuteReaderAsync(ct);
                var read = new List<(string, long, int?, DateTimeOffset?, DateTimeOffset?)>();
                while (await reader.ReadAsync(ct))
                {
                    read.Add((reader.GetString(0), reader.GetInt64(1),
                        reader.IsDBNull(2) ? null : reader.GetInt32(2),
                        reader.IsDBNull(3) ? null : reader.GetFieldValue<DateTimeOffset>(3),
                        reader.IsDBNull(4) ? null : reader.GetFieldValue<DateTimeOffset>(4)));
                }

                return read;
            }, cancellationToken);
        }
        catch (Exception ex) when (ex is NpgsqlException or TimeoutException)
        {
            return new HealthCheckResult(HealthStatus.Degraded, "the notice ledger could not be read: " + HealthText.Describe(ex));
        }

        var problems = new List<string>();
        var data = new Dictionary<string, object>();
        foreach (var row in rows.Where(r => r.RejectedAt is not null))
        {
            var code = row.Code is { } c ? c.ToString(CultureInfo.InvariantCulture) : "no status";
            problems.Add(FormattableString.Invariant($"{row.Count} notice(s) to {row.Channel} rejected in the last 24 h, the last with {code} at {row.RejectedAt:yyyy-MM-dd HH:mm:ss} UTC"));
            data[$"{row.Channel}.rejected"] = row.Count;
            data[$"{row.Channel}.lastRejectedStatus"] = row.Code ?? 0;
        }

        foreach (var row in rows.Where(r => r.OldestPending is not null))
        {
            var waited = now - row.OldestPending!.Value;
            data[$"{row.Channel}.pending"] = row.Count;
            data[$"{row.Channel}.oldestPendingSeconds"] = Math.Round(Math.Max(0, waited.TotalSeconds));
            if (waited > PendingLimit)
            {
                problems.Add(FormattableString.Invariant($"{row.Count} notice(s) to {row.Channel} waiting, the oldest for {Math.Floor(waited.TotalMinutes)} min"));
            }
        }

        return problems.Count > 0
            ? new HealthCheckResult(HealthStatus.Degraded, string.Join("; ", problems), data: data)
            : new HealthCheckResult(HealthStatus.Healthy, "notices delivered", data: data);
    }
}
