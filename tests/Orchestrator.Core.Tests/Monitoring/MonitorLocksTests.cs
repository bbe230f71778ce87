using Microsoft.Extensions.Logging.Abstractions;
using Npgsql;
using Orchestrator.Core.Monitoring;
using Orchestrator.Core.Tests.Fakes;

namespace Orchestrator.Core.Tests.Monitoring;

/// <summary>Two instances' lock holders on one database: each check runs on one of them, and changes hands when its holder goes.</summary>
public sealed class MonitorLocksTests : IAsyncLifetime
{
    private readonly PostgresDatabase database = new();

    public Task InitializeAsync() => database.InitializeAsync();

    public Task DisposeAsync() => database.DisposeAsync();

    [Fact]
    public async Task Only_one_instance_holds_a_check_and_another_takes_it_when_the_holder_goes()
    {
        await using var sourceA = NpgsqlDataSource.Create(database.ConnectionString);
        await using var sourceB = NpgsqlDataSource.Create(database.ConnectionString);
        var a = new MonitorLocks(sourceA, TimeProvider.System, NullLogger<MonitorLocks>.Instance);
        await using var b = new MonitorLocks(sourceB, TimeProvider.System, NullLogger<MonitorLocks>.Instance);

        Assert.True(await a.HoldAsync("ReplicaLag", default));
        Assert.False(await b.HoldAsync("ReplicaLag", default));
        Assert.True(await b.HoldAsync("FailureRate", default));
        Assert.False(await a.HoldAsync("FailureRate", default));
        Assert.True(await a.HoldAsync("ReplicaLag", default));

        await a.DisposeAsync();
        await WithinAsync(() => b.HoldAsync("ReplicaLag", default));
        Assert.Equal(["FailureRate", "ReplicaLag"], b.Held.Order(StringComparer.Ordinal));
    }

    [Fact]
    public async Task A_holder_whose_session_is_killed_loses_its_checks_and_gets_them_back_when_free()
    {
        await using var sourceA = NpgsqlDataSource.Create(database.ConnectionString);
        await using var sourceB = NpgsqlDataSource.Create(database.ConnectionString);
        await using var a = new MonitorLocks(sourceA, TimeProvider.System, NullLogger<MonitorLocks>.Instance);
        await using var b = new MonitorLocks(sourceB, TimeProvider.System, NullLogger<MonitorLocks>.Instance);
        Assert.True(await a.HoldAsync("StuckWorkflows", default));

        // The instance's connection dies (a network cut, a server restart): PostgreSQL releases its locks.
        await using (var kill = database.DataSource.CreateCommand(
            """
            SELECT pg_terminate_backend(l.pid) FROM pg_locks l
            WHERE l.locktype = 'advisory' AND l.granted AND l.pid <> pg_backend_pid()
              AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database())
              AND l.objid::int = hashtext('llm-orchestrator:monitor:StuckWorkflows')
            """))
        {
            await kill.ExecuteNonQueryAsync();
        }

        Assert.True(await b.HoldAsync("StuckWorkflows", default));
        Assert.False(await a.HoldAsync("StuckWorkflows", default));
        Assert.Empty(a.Held);
    }

    private static async Task WithinAsync(Func<Task<bool>> condition)
    {
        var deadline = DateTime.UtcNow.AddSeconds(10);
        while (!await condition())
        {
            Assert.True(DateTime.UtcNow < deadline, "the lock did not change hands within 10 s");
            await Task.Delay(100);
        }
    }
}
