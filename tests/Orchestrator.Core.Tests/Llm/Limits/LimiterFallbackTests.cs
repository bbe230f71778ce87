using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using Microsoft.Extensions.Logging.Abstractions;
using Npgsql;
using Orchestrator.Core.Hosting;
using Orchestrator.Core.Llm.Limits;
using Orchestrator.Core.Tests.Fakes;

namespace Orchestrator.Core.Tests.Llm.Limits;

/// <summary>With PostgreSQL unreachable each instance keeps the same limits on its own, and shares them again once it answers.</summary>
public sealed class LimiterFallbackTests(PostgresDatabase database) : IClassFixture<PostgresDatabase>
{
    private static readonly LlmLimitOptions Options = new()
    {
        SlotLease = TimeSpan.FromSeconds(2),
        SlotRenewInterval = TimeSpan.FromMilliseconds(200),
        QueueTimeout = TimeSpan.FromMilliseconds(300),
        DatabaseTimeout = TimeSpan.FromSeconds(2),
        FallbackProbeInterval = TimeSpan.FromMilliseconds(200),
    };

    // One database for the class; each test limits a provider of its own.
    private readonly string provider = $"provider-{Guid.NewGuid():N}";

    [Fact]
    public async Task Concurrency_keeps_the_same_limit_on_this_instance_when_the_database_is_unreachable()
    {
        await using var unreachable = NpgsqlDataSource.Create($"Host=127.0.0.1;Port={ClosedPort()};Username=postgres;Password=postgres;Timeout=1");
        await using var limiter = new ClusterConcurrencyLimiter(provider, 2, unreachable, new InstanceIdentity("one"), Options, TimeProvider.System, NullLogger.Instance);
        var clock = Stopwatch.StartNew();

        var first = await limiter.AcquireAsync(1);
        using var second = await limiter.AcquireAsync(1);
        using var third = await limiter.AcquireAsync(1);
        first.Dispose();
        using var fourth = await limiter.AcquireAsync(1);

        Assert.True(first.IsAcquired && second.IsAcquired && fourth.IsAcquired);
        Assert.False(third.IsAcquired);
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(2), $"took {clock.Elapsed}");
    }

    [Fact]
    public async Task A_rate_keeps_the_same_limit_on_this_instance_when_the_database_is_unreachable()
    {
        await using var unreachable = NpgsqlDataSource.Create($"Host=127.0.0.1;Port={ClosedPort()};Username=postgres;Password=postgres;Timeout=1");
        await using var limiter = new ClusterRateLimiter(provider, ClusterRateLimiter.Requests, 3, TimeSpan.FromSeconds(5), unreachable, Options, TimeProvider.System, NullLogger.Instance);

        var leases = new List<bool>();
        for (var i = 0; i < 4; i++)
        {
            using var lease = await limiter.AcquireAsync(1);
            leases.Add(lease.IsAcquired);
        }

        Assert.Equal([true, true, true, false], leases);
    }

    [Fact]
    public async Task Slots_are_shared_through_the_database_again_once_it_answers()
    {
        await using var relay = new TcpRelay(new NpgsqlConnectionStringBuilder(database.ConnectionString).Port);
        await using var relayed = NpgsqlDataSource.Create(new NpgsqlConnectionStringBuilder(database.ConnectionString) { Port = relay.Port, Timeout = 1 }.ConnectionString);
        await using var limiter = new ClusterConcurrencyLimiter(provider, 1, relayed, new InstanceIdentity("one"), Options, TimeProvider.System, NullLogger.Instance);
        await using var other = new ClusterConcurrencyLimiter(provider, 1, database.DataSource, new InstanceIdentity("two"), Options, TimeProvider.System, NullLogger.Instance);
        using (var shared = await limiter.AcquireAsync(1))
        {
            Assert.True(shared.IsAcquired);
            Assert.Equal(1, await HeldAsync());
        }

        // The release runs in the background: let it land before the cut, so the slot is free in the database.
        await UntilAsync(async () => await HeldAsync() == 0, "the slot was not released");
        relay.Cut();
        using (var local = await limiter.AcquireAsync(1))
        {
            Assert.True(local.IsAcquired);
            Assert.Equal(0, await HeldAsync()); // counted on this instance only
        }

        relay.Restore();
        var backOnDatabase = false;
        var clock = Stopwatch.StartNew();
        while (!backOnDatabase)
        {
            Assert.True(clock.Elapsed < TimeSpan.FromSeconds(10), "the limiter did not go back to the database");
            using var lease = await limiter.AcquireAsync(1);
            Assert.True(lease.IsAcquired);
            if (await HeldAsync() == 0)
            {
                await Task.Delay(50);
                continue;
            }

            // Held in the database, so the other instance waits.
            using var refused = await other.AcquireAsync(1);
            Assert.False(refused.IsAcquired);
            backOnDatabase = true;
        }
    }

    private static async Task UntilAsync(Func<Task<bool>> condition, string failure)
    {
        var clock = Stopwatch.StartNew();
        while (!await condition())
        {
            Assert.True(clock.Elapsed < TimeSpan.FromSeconds(5), failure);
            await Task.Delay(20);
        }
    }

    private async Task<long> HeldAsync()
    {
        await using var command = database.DataSource.CreateCommand("SELECT count(*) FROM llm_slots WHERE provider = @provider AND holder IS NOT NULL AND lease_expires_at > now()");
        command.Parameters.AddWithValue("provider", provider);
        return (long)(await command.ExecuteScalarAsync())!;
    }

    private static int ClosedPort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}
