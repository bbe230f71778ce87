using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Time.Testing;
using Npgsql;
using Orchestrator.Core.Hosting;
using Orchestrator.Core.Monitoring;
using Orchestrator.Core.Monitoring.Checks;
using Orchestrator.Core.Persistence;
using Orchestrator.Core.Tests.Fakes;

namespace Orchestrator.Core.Tests.Monitoring;

/// <summary>Replica lag on the real primary and streaming replica: heartbeat, byte lag and WAL receiver, time lag as information.</summary>
[Collection(ReplicaReplayCollection.Name)]
public sealed class ReplicaLagCheckTests : IAsyncLifetime
{
    private static readonly string ReplicaAdmin =
        Environment.GetEnvironmentVariable("ORCH_TEST_POSTGRES_REPLICA") ?? "Host=127.0.0.1;Port=5433;Username=postgres;Password=postgres;Database=postgres";

    private readonly PostgresDatabase database = new();
    private readonly FakeTimeProvider time = new(new DateTimeOffset(2025, 11, 14, 12, 0, 0, TimeSpan.Zero));
    private ReplicaDataSource replica = null!;

    public async Task InitializeAsync()
    {
        await database.InitializeAsync();
        replica = Replica(new NpgsqlConnectionStringBuilder(ReplicaAdmin) { Database = new NpgsqlConnectionStringBuilder(database.ConnectionString).Database }.ConnectionString);
        await WaitForDatabaseOnReplicaAsync();
    }

    public async Task DisposeAsync()
    {
        await replica.DisposeAsync();
        await database.DisposeAsync();
    }

    [Fact]
    public async Task An_idle_caught_up_replica_has_zero_lag_however_long_ago_its_last_transaction_was()
    {
        var check = Check(replica, new ReplicaLagMonitorOptions { MaxLag = TimeSpan.FromSeconds(30), HeartbeatWait = TimeSpan.FromSeconds(5) });
        await check.EvaluateAsync(default);

        time.Advance(TimeSpan.FromMinutes(10)); // nothing written meanwhile: the replica's last heartbeat is ten minutes old
        var readings = await check.EvaluateAsync(default);

        var lag = readings.Of(ReplicaLagCheck.LagKey);
        Assert.False(lag.Firing);
        Assert.Equal("0 s", lag.Fact("Heartbeat lag"));
        Assert.Equal("no", lag.Fact("Replay paused"));
        Assert.Equal("streaming", lag.Fact("WAL receiver"));
        Assert.Contains("(information)", string.Join(",", lag.Facts.Select(f => f.Key)), StringComparison.Ordinal);
        Assert.False(readings.Of(ReplicaLagCheck.DownKey).Firing);
    }

    [Fact]
    public async Task A_paused_replay_is_lag_with_the_measured_heartbeat_age_and_bytes_and_clears_on_resume()
    {
        var check = Check(replica, new ReplicaLagMonitorOptions { MaxLag = TimeSpan.FromSeconds(2), MaxLagBytes = 64 * 1024, HeartbeatWait = TimeSpan.FromSeconds(5) });
        Assert.Equal("0 s", (await check.EvaluateAsync(default)).Of(ReplicaLagCheck.LagKey).Fact("Heartbeat lag"));

        await using var replicaAdmin = NpgsqlDataSource.Create(ReplicaAdmin);
        try
        {
            await Execute(replicaAdmin, "SELECT pg_wal_replay_pause()");
            await Execute(database.DataSource, "CREATE TABLE lag_load AS SELECT g, repeat('x', 200) AS pad FROM generate_series(1, 5000) g");
            time.Advance(TimeSpan.FromSeconds(5));

            var paused = await check.EvaluateAsync(default);

            var lag = paused.Of(ReplicaLagCheck.LagKey);
            Assert.True(lag.Firing);
            Assert.Equal("5.0 s", lag.Fact("Heartbeat lag"));
            Assert.Equal("Replication lag 5.0 s on replica", lag.Title);
            Assert.Equal("yes", lag.Fact("Replay paused"));
            Assert.EndsWith("MiB", lag.Fact("Byte lag"), StringComparison.Ordinal);
            Assert.Contains("pg_wal_replay_resume", lag.NextStep, StringComparison.Ordinal);
            Assert.Contains("pg_stat_replication", lag.NextStep, StringComparison.Ordinal);
            Assert.False(paused.Of(ReplicaLagCheck.DownKey).Firing); // the stream is alive; only replay waits
        }
        finally
        {
            await Execute(replicaAdmin, "SELECT pg_wal_replay_resume()");
        }

        time.Advance(TimeSpan.FromSeconds(5));
        var resumed = await check.EvaluateAsync(default);

        Assert.False(resumed.Of(ReplicaLagCheck.LagKey).Firing);
        Assert.Equal("0 s", resumed.Of(ReplicaLagCheck.LagKey).Fact("Heartbeat lag"));
    }

    [Fact]
    public async Task A_replica_that_does_not_answer_is_down_and_its_lag_keeps_its_state()
    {
        await using var closed = Replica($"Host=127.0.0.1;Port={Ports.Closed()};Username=postgres;Password=postgres;Database=postgres");

        var readings = await Check(closed, new ReplicaLagMonitorOptions()).EvaluateAsync(default);

        var down = Assert.Single(readings);
        Assert.Equal(ReplicaLagCheck.DownKey, down.DedupKey);
        Assert.True(down.Firing);
        Assert.Equal("no", down.Fact("Replica answers"));
        Assert.Contains("does not answer", down.Title, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_replica_missing_from_pg_stat_replication_is_down()
    {
        var readings = await Check(replica, new ReplicaLagMonitorOptions { ReplicaName = "no-such-standby", HeartbeatWait = TimeSpan.FromSeconds(5) }).EvaluateAsync(default);

        var down = readings.Of(ReplicaLagCheck.DownKey);
        Assert.True(down.Firing);
        Assert.Equal("no", down.Fact("In pg_stat_replication"));
        Assert.Contains("missing from pg_stat_replication", down.Summary, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Without_a_replica_configured_there_is_nothing_to_read()
    {
        await using var none = Replica(null);

        Assert.Empty(await Check(none, new ReplicaLagMonitorOptions()).EvaluateAsync(default));
    }

    private ReplicaLagCheck Check(ReplicaDataSource source, ReplicaLagMonitorOptions options) =>
        new(database.DataSource, source, new InstanceIdentity("monitor-test"), Options.Create(options), time, NullLogger<ReplicaLagCheck>.Instance);

    private static ReplicaDataSource Replica(string? connectionString)
    {
        var options = Options.Create(new PostgresOptions { ReplicaConnectionString = connectionString });
        return new(options, new PostgresAuthentication(options.Value, credential: null));
    }

    private async Task WaitForDatabaseOnReplicaAsync()
    {
        for (var attempt = 0; ; attempt++)
        {
            try
            {
                await Execute(replica.DataSource!, "SELECT count(*) FROM monitor_heartbeat");
                return;
            }
            catch (PostgresException) when (attempt < 100)
            {
                await Task.Delay(100);
            }
        }
    }

    private static async Task Execute(NpgsqlDataSource source, string sql)
    {
        await using var command = source.CreateCommand(sql);
        await command.ExecuteNonQueryAsync();
    }
}
