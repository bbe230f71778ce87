using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Npgsql;

namespace Orchestrator.Core.Monitoring.Checks;

/// <summary>
/// Runbook issue #5, "Circuit Breaker Open": the cluster-wide state in <c>circuit_breakers</c> (migrations 0003, 0008,
/// 0010; 1 open, 2 half-open). One reading per breaker, <c>circuit-breaker:&lt;name&gt;</c>, firing while it is open or half-open.
/// </summary>
public sealed class CircuitBreakersCheck(
    [FromKeyedServices(MonitoringExtensions.DataSourceKey)] NpgsqlDataSource primary, IOptions<CircuitBreakersMonitorOptions> options, TimeProvider time, ILogger<CircuitBreakersCheck> logger) : IMonitorCheck
{
    public const string KeyPrefix = "circuit-breaker:";

    public string Name => CircuitBreakersMonitorOptions.Name;

    public MonitorCheckOptions Options => options.Value;

    public async Task<IReadOnlyList<ConditionReading>> EvaluateAsync(CancellationToken cancellationToken)
    {
        var (answered, breakers) = await CheckQuery.TryAsync(this, primary, "the primary", time, logger, ReadAsync, cancellationToken);
        return answered ? breakers.Select(b => Reading(b, options.Value)).ToList() : [];
    }

    private static ConditionReading Reading(Breaker breaker, CircuitBreakersMonitorOptions settings)
    {
        var state = breaker.State switch { 1 => "open", 2 => "half-open", _ => "closed" };
        List<KeyValuePair<string, string>> facts =
        [
            new("State", state),
            new("Opened at", breaker.OpenedAt is { } opened ? FactText.Time(opened) : "n/a"),
            new("Open until", breaker.OpenUntil is { } until ? FactText.Time(until) : "n/a"),
            new("Reason", breaker.Reason ?? "n/a"),
            new("Opened by", breaker.OpenedBy ?? "n/a"),
        ];
        var key = KeyPrefix + breaker.Name;
        if (breaker.State is not (1 or 2))
        {
            return ConditionReading.Clear(key, settings.Severity, $"Circuit breaker {breaker.Name} open", facts);
        }

        return new ConditionReading(
            key, true, settings.Severity,
            $"Circuit breaker {breaker.Name} {state}",
            $"\"Circuit breaker open\" errors: all requests to {breaker.Name} fail fast; workflows use their fallbacks where configured",
            $"Circuit breaker {breaker.Name} is {state} for every instance" +
            (breaker.Reason is null ? "" : $": {breaker.Reason}") + ". Root cause: external service outage or network issue.",
            "Check circuit breaker status: curl http://localhost:8080/metrics | grep circuit_breaker; wait for cool-down period " +
            "(typically 30-60 seconds): it auto-closes if the service recovers; force reset (use with caution): " +
            $"curl -X POST \"http://localhost:8080/admin/circuit-breaker/reset?name={breaker.Name}\" -H \"Authorization: Bearer $ADMIN_TOKEN\"",
            facts);
    }

    private static async Task<IReadOnlyList<Breaker>> ReadAsync(NpgsqlConnection connection, CancellationToken cancellationToken)
    {
        await using var command = new NpgsqlCommand("SELECT name, state, opened_at, open_until, reason, opened_by FROM circuit_breakers ORDER BY name", connection);
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        var breakers = new List<Breaker>();
        while (await reader.ReadAsync(cancellationToken))
        {
            breakers.Add(new Breaker(
                reader.GetString(0), reader.GetInt16(1),
                reader.IsDBNull(2) ? null : reader.GetFieldValue<DateTimeOffset>(2),
                reader.IsDBNull(3) ? null : reader.GetFieldValue<DateTimeOffset>(3),
                reader.IsDBNull(4) ? null : reader.GetString(4),
                reader.IsDBNull(5) ? null : reader.GetString(5)));
        }

        return breakers;
    }

    private sealed record Breaker(string Name, short State, DateTimeOffset? OpenedAt, DateTimeOffset? OpenUntil, string? Reason, string? OpenedBy);
}
