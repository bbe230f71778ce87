using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Time.Testing;
using Npgsql;
using Orchestrator.Core.Incidents;
using Orchestrator.Core.Metrics;
using Orchestrator.Core.Monitoring;
using Orchestrator.Core.Monitoring.Checks;
using Orchestrator.Core.Tests.Fakes;

namespace Orchestrator.Core.Tests.Monitoring;

/// <summary>This process's pool from Npgsql's meters (a pool of three held full) and the server's connections.</summary>
public sealed class ConnectionPoolCheckTests : IAsyncLifetime
{
    private readonly PostgresDatabase database = new();
    private readonly string poolName = $"pool-check-{Guid.NewGuid():N}";
    private NpgsqlDataSource small = null!;
    private NpgsqlPoolMetrics pool = null!;

    public async Task InitializeAsync()
    {
        await database.InitializeAsync();
        small = new NpgsqlDataSourceBuilder(new NpgsqlConnectionStringBuilder(database.ConnectionString) { MaxPoolSize = 3, Timeout = 1 }.ConnectionString)
        {
            Name = poolName,
        }.Build();
        pool = new NpgsqlPoolMetrics(new OrchestratorMetrics(), poolName);
    }

    public async Task DisposeAsync()
    {
        pool.Dispose();
        await small.DisposeAsync();
        await database.DisposeAsync();
    }

    [Fact]
    public async Task A_pool_held_full_with_a_request_waiting_is_saturated_and_clears_when_released()
    {
        var check = Check(new ConnectionPoolMonitorOptions());
        var held = new List<NpgsqlConnection>();
        for (var i = 0; i < 3; i++)
        {
            held.Add(await small.OpenConnectionAsync());
        }

        using var stopWaiting = new CancellationTokenSource();
        var waiter = small.OpenConnectionAsync(stopWaiting.Token).AsTask();
        try
        {
            var saturated = (await check.EvaluateAsync(default)).Of(ConnectionPoolCheck.SaturatedKey);

            Assert.True(saturated.Firing);
            Assert.Equal(Severity.P2, saturated.Severity);
            Assert.Equal("3 of 3", saturated.Fact("Busy connections"));
            Assert.Equal("1", saturated.Fact("Pending requests"));
            Assert.Equal("100 %", saturated.Fact("Pool usage"));
            Assert.Contains("grep db_pool", saturated.NextStep, StringComparison.Ordinal);
        }
        finally
        {
            foreach (var connection in held)
            {
                await connection.DisposeAsync();
            }
        }

        await (await waiter).DisposeAsync();
        var readings = await check.EvaluateAsync(default);

        Assert.False(readings.Of(ConnectionPoolCheck.SaturatedKey).Firing);
        Assert.Equal("0", readings.Of(ConnectionPoolCheck.SaturatedKey).Fact("Pending requests"));
        Assert.False(readings.Of(ConnectionPoolCheck.ServerKey).Firing);
    }

    [Fact]
    public async Task An_acquire_timeout_since_the_previous_check_is_a_P1_that_clears_at_the_next_check()
    {
        var check = Check(new ConnectionPoolMonitorOptions());
        Assert.False((await check.EvaluateAsync(default)).Of(ConnectionPoolCheck.TimeoutsKey).Firing);
        var held = new List<NpgsqlConnection>();
        for (var i = 0; i < 3; i++)
        {
            held.Add(await small.OpenConnectionAsync());
        }

        try
        {
            await Assert.ThrowsAnyAsync<NpgsqlException>(async () => await small.OpenConnectionAsync());
            var timeouts = (await check.EvaluateAsync(default)).Of(ConnectionPoolCheck.TimeoutsKey);

            Assert.True(timeouts.Firing);
            Assert.Equal(Severity.P1, timeouts.Severity);
            Assert.Equal("1", timeouts.Fact("New acquire timeouts"));
        }
        finally
        {
            foreach (var connection in held)
            {
                await connection.DisposeAsync();
            }
        }

        var next = (await check.EvaluateAsync(default)).Of(ConnectionPoolCheck.TimeoutsKey);
        Assert.False(next.Firing);
        Assert.Equal("1", next.Fact("Acquire timeouts since start"));
    }

    [Fact]
    public async Task Server_connections_over_the_share_of_max_connections_fire()
    {
        var readings = await Check(new ConnectionPoolMonitorOptions { MaxServerUsage = 0.01 }).EvaluateAsync(default);

        var server = readings.Of(ConnectionPoolCheck.ServerKey);
        Assert.True(server.Firing);
        Assert.Matches(@"^\d+ of \d+$", server.Fact("Server connections"));
        Assert.Contains("max_connections", server.Title, StringComparison.Ordinal);
    }

    private ConnectionPoolCheck Check(ConnectionPoolMonitorOptions options) =>
        new(small, pool, Options.Create(options), new FakeTimeProvider(), NullLogger<ConnectionPoolCheck>.Instance);
}
