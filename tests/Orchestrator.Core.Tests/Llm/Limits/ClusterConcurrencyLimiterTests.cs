using System.Diagnostics;
using System.Threading.RateLimiting;
using Microsoft.Extensions.Logging.Abstractions;
using Npgsql;
using Orchestrator.Core.Hosting;
using Orchestrator.Core.Llm.Limits;
using Orchestrator.Core.Tests.Fakes;

namespace Orchestrator.Core.Tests.Llm.Limits;

/// <summary>Concurrency slots shared through PostgreSQL by several instances of the product.</summary>
public sealed class ClusterConcurrencyLimiterTests(PostgresDatabase database) : IClassFixture<PostgresDatabase>
{
    // One database for the class; each test limits a provider of its own.
    private readonly string provider = $"provider-{Guid.NewGuid():N}";

    [Fact]
    public async Task Two_instances_never_hold_more_than_the_limit_together_and_every_caller_gets_a_slot()
    {
        await using var one = Limiter(provider, 5, new InstanceIdentity("one"));
        await using var two = Limiter(provider, 5, new InstanceIdentity("two"));
        var holding = 0;
        var most = 0;

        var granted = await Task.WhenAll(Enumerable.Range(0, 50).Select(async i =>
        {
            using var lease = await (i % 2 == 0 ? one : two).AcquireAsync(1);
            if (!lease.IsAcquired)
            {
                return false;
            }

            var now = Interlocked.Increment(ref holding);
            for (var seen = Volatile.Read(ref most); now > seen; seen = Volatile.Read(ref most))
            {
                Interlocked.CompareExchange(ref most, now, seen);
            }

            await Task.Delay(100 + (i % 5 * 25));
            Interlocked.Decrement(ref holding);
            return true;
        }));

        Assert.All(granted, Assert.True);
        Assert.Equal(5, most);
        await WaitUntilAsync(async () => await HeldAsync(provider) == 0);
    }

    [Fact]
    public async Task A_slot_whose_holder_died_is_taken_over_once_its_lease_runs_out()
    {
        var dead = Limiter(provider, 1, new InstanceIdentity("dead"));
        var orphan = await dead.AcquireAsync(1);
        Assert.True(orphan.IsAcquired);
        // The process dies: its renewals stop, nothing gives the slot back.
        await dead.DisposeAsync();
        await using var alive = Limiter(provider, 1, new InstanceIdentity("alive"));

        var waited = Stopwatch.StartNew();
        using var lease = await alive.AcquireAsync(1);

        Assert.True(lease.IsAcquired);
        Assert.InRange(waited.Elapsed, TimeSpan.FromMilliseconds(500), TimeSpan.FromSeconds(3));
    }

    [Fact]
    public async Task A_slot_held_longer_than_its_lease_is_renewed_and_stays_taken()
    {
        await using var holder = Limiter(provider, 1, new InstanceIdentity("holder"));
        await using var other = Limiter(provider, 1, new InstanceIdentity("other"), queueTimeout: TimeSpan.FromMilliseconds(300));
        using var held = await holder.AcquireAsync(1);
        await Task.Delay(TimeSpan.FromSeconds(2.5));

        using var refused = await other.AcquireAsync(1);

        Assert.True(held.IsAcquired);
        Assert.False(refused.IsAcquired);
        Assert.True(refused.TryGetMetadata(MetadataName.RetryAfter, out var retryAfter));
        Assert.True(retryAfter > TimeSpan.Zero);
    }

    [Fact]
    public async Task An_expired_slot_row_of_a_crashed_instance_is_taken_at_once()
    {
        await InsertSlotAsync(provider, 0, "gone/0123", TimeSpan.FromSeconds(-5));
        await using var limiter = Limiter(provider, 1, new InstanceIdentity("next"), queueTimeout: TimeSpan.Zero);

        using var lease = await limiter.AcquireAsync(1);

        Assert.True(lease.IsAcquired);
    }

    [Fact]
    public async Task Slots_an_earlier_process_of_the_same_instance_left_are_released_at_first_use_and_others_are_not()
    {
        await InsertSlotAsync(provider, 0, "web-1/earlier", TimeSpan.FromMinutes(5));
        await InsertSlotAsync(provider, 1, "web-2/running", TimeSpan.FromMinutes(5));
        await using var restarted = Limiter(provider, 2, new InstanceIdentity("web-1"), queueTimeout: TimeSpan.Zero);

        using var first = await restarted.AcquireAsync(1);
        using var second = await restarted.AcquireAsync(1);

        Assert.True(first.IsAcquired);
        Assert.False(second.IsAcquired);
    }

    [Fact]
    public async Task Asking_for_more_permits_than_the_limit_is_refused_at_once()
    {
        await using var limiter = Limiter(provider, 2, new InstanceIdentity("one"));

        using var lease = await limiter.AcquireAsync(3);

        Assert.False(lease.IsAcquired);
        Assert.True(lease.TryGetMetadata(MetadataName.ReasonPhrase, out var reason));
        Assert.Contains("allows 2", reason, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Providers_have_slots_of_their_own()
    {
        await using var openai = Limiter(provider, 1, new InstanceIdentity("one"), queueTimeout: TimeSpan.Zero);
        await using var azure = Limiter(provider + "-other", 1, new InstanceIdentity("one"), queueTimeout: TimeSpan.Zero);

        using var a = await openai.AcquireAsync(1);
        using var b = await azure.AcquireAsync(1);

        Assert.True(a.IsAcquired && b.IsAcquired);
    }

    [Fact]
    public async Task Waiting_for_slots_other_instances_hold_leaves_no_wake_up_entries_behind()
    {
        await using var holder = Limiter(provider, 1, new InstanceIdentity("two"));
        await using var waiting = Limiter(provider, 1, new InstanceIdentity("one"), queueTimeout: TimeSpan.FromSeconds(2));
        using var held = await holder.AcquireAsync(1);

        // Two seconds of polling (25 ms doubling to 250 ms): a dozen looks at the slots, never a release here.
        using var refused = await waiting.AcquireAsync(1);

        Assert.True(held.IsAcquired);
        Assert.False(refused.IsAcquired);
        Assert.InRange(waiting.QueuedWakeUps, 0, 1);
    }

    private ClusterConcurrencyLimiter Limiter(string provider, int limit, InstanceIdentity identity, TimeSpan? queueTimeout = null) =>
        new(provider, limit, database.DataSource, identity, new LlmLimitOptions
        {
            SlotLease = TimeSpan.FromSeconds(1),
            SlotRenewInterval = TimeSpan.FromMilliseconds(200),
            QueueTimeout = queueTimeout ?? TimeSpan.FromSeconds(10),
        }, TimeProvider.System, NullLogger.Instance);

    private async Task InsertSlotAsync(string provider, int slot, string holder, TimeSpan expiresIn)
    {
        await using var command = database.DataSource.CreateCommand(
            "INSERT INTO llm_slots (provider, slot, holder, lease, lease_expires_at) VALUES (@provider, @slot, @holder, gen_random_uuid(), now() + @expires)");
        command.Parameters.AddWithValue("provider", provider);
        command.Parameters.AddWithValue("slot", slot);
        command.Parameters.AddWithValue("holder", holder);
        command.Parameters.AddWithValue("expires", expiresIn);
        await command.ExecuteNonQueryAsync();
    }

    private async Task<long> HeldAsync(string provider)
    {
        await using var command = database.DataSource.CreateCommand("SELECT count(*) FROM llm_slots WHERE provider = @provider AND holder IS NOT NULL");
        command.Parameters.AddWithValue("provider", provider);
        return (long)(await command.ExecuteScalarAsync())!;
    }

    private static async Task WaitUntilAsync(Func<Task<bool>> condition)
    {
        var waited = Stopwatch.StartNew();
        while (!await condition())
        {
            Assert.True(waited.Elapsed < TimeSpan.FromSeconds(5), "the condition did not hold within 5 s");
            await Task.Delay(20);
        }
    }
}
