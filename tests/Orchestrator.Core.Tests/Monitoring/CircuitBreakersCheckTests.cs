using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Time.Testing;
using Orchestrator.Core.Monitoring;
using Orchestrator.Core.Monitoring.Checks;
using Orchestrator.Core.Tests.Fakes;

namespace Orchestrator.Core.Tests.Monitoring;

/// <summary>One reading per cluster-wide breaker, firing while it is open or half-open.</summary>
public sealed class CircuitBreakersCheckTests : IAsyncLifetime
{
    private readonly PostgresDatabase database = new();

    public Task InitializeAsync() => database.InitializeAsync();

    public Task DisposeAsync() => database.DisposeAsync();

    [Fact]
    public async Task Open_and_half_open_breakers_fire_and_a_closed_one_is_clear()
    {
        await using (var insert = database.DataSource.CreateCommand(
            """
            INSERT INTO circuit_breakers (name, state, opened_at, open_until, opened_by, reason) VALUES
              ('openai', 1, '2025-11-14 12:00:00+00', '2025-11-14 12:00:30+00', 'instance-a/1', '12 of 20 calls failed'),
              ('azure', 2, '2025-11-14 11:59:00+00', '2025-11-14 11:59:30+00', 'instance-b/2', 'provider returned 503'),
              ('local', 0, NULL, NULL, NULL, NULL)
            """))
        {
            await insert.ExecuteNonQueryAsync();
        }

        var readings = await new CircuitBreakersCheck(
            database.DataSource, Options.Create(new CircuitBreakersMonitorOptions()), new FakeTimeProvider(), NullLogger<CircuitBreakersCheck>.Instance).EvaluateAsync(default);

        Assert.Equal(["circuit-breaker:azure", "circuit-breaker:local", "circuit-breaker:openai"], readings.Select(r => r.DedupKey));
        var open = readings.Of("circuit-breaker:openai");
        Assert.True(open.Firing);
        Assert.Equal("Circuit breaker openai open", open.Title);
        Assert.Equal("2025-11-14 12:00:00 UTC", open.Fact("Opened at"));
        Assert.Equal("2025-11-14 12:00:30 UTC", open.Fact("Open until"));
        Assert.Equal("12 of 20 calls failed", open.Fact("Reason"));
        Assert.Equal("instance-a/1", open.Fact("Opened by"));
        Assert.Contains("circuit-breaker/reset?name=openai", open.NextStep, StringComparison.Ordinal);
        Assert.True(readings.Of("circuit-breaker:azure").Firing);
        Assert.Equal("half-open", readings.Of("circuit-breaker:azure").Fact("State"));
        Assert.False(readings.Of("circuit-breaker:local").Firing);
    }
}
