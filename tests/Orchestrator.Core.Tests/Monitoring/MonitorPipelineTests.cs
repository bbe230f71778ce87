using Microsoft.Extensions.Time.Testing;
using Npgsql;
using Orchestrator.Core.Monitoring;
using Orchestrator.Core.Tests.Fakes;

namespace Orchestrator.Core.Tests.Monitoring;

/// <summary>
/// From the database to the receiver: real primary and replica, the checks, the engine, the ledger and the senders
/// as the hosts wire them, a fake clock, and Slack and a webhook as one receiver over real HTTP.
/// </summary>
[Collection(ReplicaReplayCollection.Name)]
public sealed class MonitorPipelineTests : IAsyncLifetime
{
    private static readonly string ReplicaAdmin =
        Environment.GetEnvironmentVariable("ORCH_TEST_POSTGRES_REPLICA") ?? "Host=127.0.0.1;Port=5433;Username=postgres;Password=postgres;Database=postgres";

    private static readonly TimeSpan Interval = TimeSpan.FromSeconds(15);

    private readonly PostgresDatabase database = new();
    private readonly FakeTimeProvider time = new(DateTimeOffset.UtcNow);
    private NoticeReceiver receiver = null!;

    private string ReplicaConnectionString =>
        new NpgsqlConnectionStringBuilder(ReplicaAdmin) { Database = new NpgsqlConnectionStringBuilder(database.ConnectionString).Database }.ConnectionString;

    public async Task InitializeAsync()
    {
        await database.InitializeAsync();
        receiver = await NoticeReceiver.StartAsync();
        await using var replica = NpgsqlDataSource.Create(ReplicaConnectionString);
        for (var attempt = 0; ; attempt++)
        {
            try
            {
                await using var probe = replica.CreateCommand("SELECT count(*) FROM incident_notices");
                await probe.ExecuteScalarAsync();
                break;
            }
            catch (PostgresException) when (attempt < 100)
            {
                await Task.Delay(100); // the new database is not on the replica yet
            }
        }
    }

    public async Task DisposeAsync()
    {
        await receiver.DisposeAsync();
        await database.DisposeAsync();
    }

    [Fact]
    public async Task A_paused_replay_opens_one_lag_incident_within_two_checks_told_once_per_channel_with_the_lag_and_resumed_resolves_it_once()
    {
        await using var host = Host(new()
        {
            ["Monitors:ReplicaLag:MaxLag"] = "00:00:20",
            ["Monitors:ReplicaLag:MaxLagBytes"] = "1073741824",
            ["Monitors:ReplicaLag:HeartbeatWait"] = "00:00:02",
            ["Monitors:ReplicaLag:For"] = "00:00:15",
            ["Monitors:ReplicaLag:ClearFor"] = "00:00:30",
            ["Monitors:ReplicaLag:ClearChecks"] = "2",
        });
        await host.RunAsync(ReplicaLagMonitorOptions.Name);

        await using var replicaAdmin = NpgsqlDataSource.Create(ReplicaAdmin);
        try
        {
            await ExecuteAsync(replicaAdmin, "SELECT pg_wal_replay_pause()");
            await ExecuteAsync(database.DataSource, "CREATE TABLE lag_load AS SELECT g FROM generate_series(1, 1000) g");
            await CheckAsync(host, ReplicaLagMonitorOptions.Name); // 15 s behind: under the 20 s line
            Assert.Empty(receiver.Requests);
            await CheckAsync(host, ReplicaLagMonitorOptions.Name); // 30 s: firing, pending
            await CheckAsync(host, ReplicaLagMonitorOptions.Name); // 45 s, held for 15 s: opened
        }
        finally
        {
            await ExecuteAsync(replicaAdmin, "SELECT pg_wal_replay_resume()");
        }

        var detected = Assert.Single(receiver.Delivered("/slack"));
        Assert.Contains("INCIDENT DETECTED", detected.Body, StringComparison.Ordinal);
        Assert.Contains("Replication lag 45.0 s on replica", detected.Body, StringComparison.Ordinal);
        Assert.Contains("Severity: P2", detected.Body, StringComparison.Ordinal);
        Assert.Single(receiver.Delivered("/hook"));

        await CheckAsync(host, ReplicaLagMonitorOptions.Name); // caught up: clear 1
        await CheckAsync(host, ReplicaLagMonitorOptions.Name); // clear 2, 15 s
        Assert.Single(receiver.Delivered("/slack"));
        await CheckAsync(host, ReplicaLagMonitorOptions.Name); // clear 3, 30 s: resolved
        await CheckAsync(host, ReplicaLagMonitorOptions.Name);

        var slack = receiver.Delivered("/slack");
        Assert.Equal(2, slack.Count);
        Assert.Contains("INCIDENT RESOLVED", slack[1].Body, StringComparison.Ordinal);
        // Started at the first firing check (30 s in); the last firing one was 45 s in; resolved 90 s in.
        Assert.Contains("Duration: 1 min", slack[1].Body, StringComparison.Ordinal);
        Assert.Equal(2, receiver.Delivered("/hook").Count);
        Assert.Equal(1, await database.CountAsync("incidents"));
    }

    [Fact]
    public async Task An_idle_caught_up_replica_checked_for_ten_minutes_of_fake_time_tells_nobody_anything()
    {
        await using var host = Host(new() { ["Monitors:ReplicaLag:For"] = "00:00:00", ["Monitors:ReplicaLag:HeartbeatWait"] = "00:00:02" });

        for (var i = 0; i < 40; i++)
        {
            await CheckAsync(host, ReplicaLagMonitorOptions.Name);
        }

        Assert.Empty(receiver.Requests);
        Assert.Equal(0, await database.CountAsync("incidents"));
    }

    [Fact]
    public async Task A_primary_that_stops_answering_is_told_directly_then_recorded_and_resolved_through_the_ledger_once_it_answers()
    {
        await using var relay = new TcpRelay(new NpgsqlConnectionStringBuilder(database.ConnectionString).Port);
        var throughRelay = new NpgsqlConnectionStringBuilder(database.ConnectionString) { Port = relay.Port, Timeout = 2 }.ConnectionString;
        await using var workflows = NpgsqlDataSource.Create(throughRelay);
        await using var host = Host(
            new()
            {
                ["Monitors:PrimaryDatabase:For"] = "00:00:10",
                ["Monitors:PrimaryDatabase:ClearFor"] = "00:00:20",
                ["Monitors:PrimaryDatabase:ClearChecks"] = "2",
            },
            workflows,
            throughRelay);
        await CheckAsync(host, PrimaryDatabaseMonitorOptions.Name);

        relay.Cut();
        await CheckAsync(host, PrimaryDatabaseMonitorOptions.Name); // down, pending
        Assert.Empty(receiver.Requests);
        await CheckAsync(host, PrimaryDatabaseMonitorOptions.Name); // down 15 s: told directly
        await CheckAsync(host, PrimaryDatabaseMonitorOptions.Name); // still down: not told again
        var direct = Assert.Single(receiver.Delivered("/slack"));
        Assert.Contains("INCIDENT DETECTED", direct.Body, StringComparison.Ordinal);
        Assert.Contains("Severity: P1", direct.Body, StringComparison.Ordinal);
        Assert.Single(receiver.Delivered("/hook"));
        Assert.Equal(0, await database.CountAsync("incidents"));

        relay.Restore();
        await CheckAsync(host, PrimaryDatabaseMonitorOptions.Name); // answers: recorded, clear 1
        var rows = await StatusesAsync();
        Assert.Equal(["detected:sent", "detected:sent"], rows);
        await CheckAsync(host, PrimaryDatabaseMonitorOptions.Name); // clear 2, 15 s
        await CheckAsync(host, PrimaryDatabaseMonitorOptions.Name); // clear 3, 30 s: resolved

        var slack = receiver.Delivered("/slack");
        Assert.Equal(2, slack.Count);
        Assert.Contains("INCIDENT RESOLVED", slack[1].Body, StringComparison.Ordinal);
        Assert.Equal(["detected:sent", "detected:sent", "resolved:sent", "resolved:sent"], await StatusesAsync());
        Assert.Equal(2, receiver.Delivered("/hook").Count);
    }

    [Fact]
    public async Task A_workflow_pool_held_full_opens_one_pool_incident_through_the_monitors_own_pool_and_releasing_it_resolves_it()
    {
        var poolName = $"pipeline-pool-{Guid.NewGuid():N}";
        await using var workflows = new NpgsqlDataSourceBuilder(new NpgsqlConnectionStringBuilder(database.ConnectionString) { MaxPoolSize = 3, Timeout = 30 }.ConnectionString)
        {
            Name = poolName,
        }.Build();
        await using var host = Host(
            new()
            {
                ["Monitors:ConnectionPool:For"] = "00:00:15",
                ["Monitors:ConnectionPool:ClearFor"] = "00:00:15",
                ["Monitors:ConnectionPool:ClearChecks"] = "2",
            },
            workflows,
            poolName: poolName);
        await CheckAsync(host, ConnectionPoolMonitorOptions.Name);

        var held = new List<NpgsqlConnection>();
        for (var i = 0; i < 3; i++)
        {
            held.Add(await workflows.OpenConnectionAsync());
        }

        using var stopWaiting = new CancellationTokenSource();
        var waiter = workflows.OpenConnectionAsync(stopWaiting.Token).AsTask();
        try
        {
            await CheckAsync(host, ConnectionPoolMonitorOptions.Name); // full, one waiting: pending
            Assert.Empty(receiver.Requests);
            await CheckAsync(host, ConnectionPoolMonitorOptions.Name); // held for 15 s: opened, told
            await CheckAsync(host, ConnectionPoolMonitorOptions.Name); // still full: nothing new for a P2
        }
        finally
        {
            foreach (var connection in held)
            {
                await connection.DisposeAsync();
            }
        }

        await (await waiter).DisposeAsync();
        var detected = Assert.Single(receiver.Delivered("/slack"));
        Assert.Contains("INCIDENT DETECTED", detected.Body, StringComparison.Ordinal);
        Assert.Contains("Severity: P2", detected.Body, StringComparison.Ordinal);
        Assert.Contains("3 of 3", detected.Body, StringComparison.Ordinal);
        Assert.Single(receiver.Delivered("/hook"));

        await CheckAsync(host, ConnectionPoolMonitorOptions.Name); // released: clear 1
        await CheckAsync(host, ConnectionPoolMonitorOptions.Name); // clear 2, 15 s: resolved
        await CheckAsync(host, ConnectionPoolMonitorOptions.Name);

        var slack = receiver.Delivered("/slack");
        Assert.Equal(2, slack.Count);
        Assert.Contains("INCIDENT RESOLVED", slack[1].Body, StringComparison.Ordinal);
        Assert.Equal(2, receiver.Delivered("/hook").Count);
        Assert.Equal(["detected:sent", "detected:sent", "resolved:sent", "resolved:sent"], await StatusesAsync());
    }

    private MonitorHost Host(Dictionary<string, string?> settings, NpgsqlDataSource? workflows = null, string? connectionString = null, string? poolName = null)
    {
        settings["Notices:Slack:WebhookUrl"] = receiver.Url("/slack");
        settings["Notices:Webhook:Url"] = receiver.Url("/hook");
        settings["Notices:Webhook:Secret"] = "webhook-signing-secret";
        return new MonitorHost(workflows ?? database.DataSource, connectionString ?? database.ConnectionString, ReplicaConnectionString, time, settings, poolName);
    }

    private async Task CheckAsync(MonitorHost host, string check)
    {
        time.Advance(Interval);
        await host.RunAsync(check);
    }

    private async Task<List<string>> StatusesAsync()
    {
        await using var command = database.DataSource.CreateCommand("SELECT kind || ':' || status FROM incident_notices ORDER BY id");
        await using var reader = await command.ExecuteReaderAsync();
        var rows = new List<string>();
        while (await reader.ReadAsync())
        {
            rows.Add(reader.GetString(0));
        }

        return rows;
    }

    private static async Task ExecuteAsync(NpgsqlDataSource source, string sql)
    {
        await using var command = source.CreateCommand(sql);
        await command.ExecuteNonQueryAsync();
    }
}
