using Orchestrator.Server.Durable;
using System.Net;
using System.Text.Json.Nodes;
using Npgsql;
using Orchestrator.Server.Tests.Infrastructure;

namespace Orchestrator.Server.Tests;

/// <summary>
/// /health when a dependency is in trouble: an unreachable primary is unhealthy (503) while the process stays live,
/// and a lagging replica degrades the service with its lag, then recovers to zero once it has replayed everything.
/// </summary>
[Collection(EndToEnd.Name)]
public sealed class HealthTests(HealthTests.LagFixture fixture) : IClassFixture<HealthTests.LagFixture>
{
    [Fact]
    public async Task With_the_primary_unreachable_health_and_readiness_answer_503_liveness_200_and_a_start_503()
    {
        // Nothing listens on port 1: the primary is down from the start (no migrations, the state refresh fails).
        await using var server = new ServerProcess(
            "Host=127.0.0.1;Port=1;Database=workflows;Username=postgres;Password=not-the-password;Timeout=2",
            fixture.TaskHub + "down",
            fixture.Llm.BaseUrl,
            new Dictionary<string, string?> { ["Postgres__MigrateOnStart"] = "false", ["Postgres__ReplicaConnectionString"] = null });
        await server.StartAsync(readyPath: "/health/live");
        using var api = new OrchestratorApi(server.BaseAddress);

        var (health, report, _) = await api.GetAsync("/health");
        var (ready, _, _) = await api.GetAsync("/health/ready");
        var (start, problem, _) = await api.PostAsync("/api/v1/workflows", new JsonObject
        {
            ["definition"] = "summarize-classify",
            ["input"] = new JsonObject { ["text"] = "while the database is down" },
        });
        var metrics = await api.Http.GetStringAsync("/metrics");

        Assert.Equal(HttpStatusCode.ServiceUnavailable, health);
        Assert.Equal("unhealthy", report!["checks"]!["postgres"]!["status"]!.GetValue<string>());
        // On Azure Storage the task hub does not depend on PostgreSQL; on Postgres it lives in the unreachable database.
        Assert.Equal(TestEnvironment.DurableBackend == DurableBackendKind.AzureStorage ? "healthy" : "unhealthy", report["checks"]!["taskhub"]!["status"]!.GetValue<string>());
        Assert.DoesNotContain("not-the-password", report.ToJsonString(), StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.ServiceUnavailable, ready);
        Assert.Equal(HttpStatusCode.ServiceUnavailable, start);
        Assert.Equal(503, problem!["status"]!.GetValue<int>());
        Assert.Equal(0, PrometheusText.Value(metrics, "llm_orchestrator_metrics_database_up"));
    }

    [Fact]
    public async Task With_the_primary_black_holed_health_answers_503_within_its_check_timeout_instead_of_hanging()
    {
        await using var proxy = await FaultProxy.StartForNpgsqlAsync(fixture.Database);
        await using var server = new ServerProcess(
            proxy.ForNpgsql(fixture.Database), fixture.TaskHub + "hole", fixture.Llm.BaseUrl,
            new Dictionary<string, string?> { ["Postgres__ReplicaConnectionString"] = null });
        await server.StartAsync();
        using var api = new OrchestratorApi(server.BaseAddress);
        api.Http.Timeout = TimeSpan.FromSeconds(20);

        proxy.BlackHole();
        try
        {
            var started = System.Diagnostics.Stopwatch.StartNew();
            var (health, report, _) = await api.GetAsync("/health");
            var took = started.Elapsed;

            Assert.Equal(HttpStatusCode.ServiceUnavailable, health);
            Assert.Equal("unhealthy", report!["checks"]!["postgres"]!["status"]!.GetValue<string>());
            // Unbounded, the check waited for Npgsql's command and connection timeouts (up to a minute).
            Assert.True(took < TimeSpan.FromSeconds(10), $"/health took {took.TotalSeconds:0.0} s with the primary black-holed");
        }
        finally
        {
            proxy.Pass();
        }
    }

    [Fact]
    public async Task A_replica_that_stops_replaying_degrades_health_with_its_lag_and_an_idle_caught_up_one_has_none()
    {
        // Caught up once nothing is in flight (with the task hub in PostgreSQL, the fixture's durable work writes WAL
        // too, and a check that lands between a write and its replay sees it).
        var caughtUp = await ReplicaCheckAsync(c => c["status"]!.GetValue<string>() == "healthy" && c["data"]!["lagSeconds"]!.GetValue<double>() == 0);
        Assert.Equal(0, caughtUp["data"]!["lagSeconds"]!.GetValue<double>());

        await using var replica = new NpgsqlConnection(TestEnvironment.ReplicaOf(fixture.Database));
        await replica.OpenAsync();
        await ExecuteAsync(replica, "SELECT pg_wal_replay_pause()");
        try
        {
            // Writes the replica receives but does not replay, a second apart, so the lag grows past the 1 s limit.
            var lagging = await ReplicaCheckAsync(
                c => c["status"]!.GetValue<string>() == "degraded",
                write: () => fixture.ScalarAsync("SELECT count(*) FROM (SELECT pg_notify('lag', 'x'), txid_current()) t"));
            Assert.Contains("replication lag", lagging["description"]!.GetValue<string>(), StringComparison.Ordinal);
            Assert.True(lagging["data"]!["lagSeconds"]!.GetValue<double>() > 1);
            var (status, _, _) = await fixture.Api.GetAsync("/health");
            Assert.Equal(HttpStatusCode.OK, status); // degraded, not unhealthy
        }
        finally
        {
            await ExecuteAsync(replica, "SELECT pg_wal_replay_resume()");
        }

        var recovered = await ReplicaCheckAsync(c => c["status"]!.GetValue<string>() == "healthy" && c["data"]!["lagSeconds"]!.GetValue<double>() == 0);
        Assert.Equal(0, recovered["data"]!["lagSeconds"]!.GetValue<double>());
    }

    private async Task<JsonNode> ReplicaCheckAsync(Func<JsonNode, bool> condition, Func<Task<long>>? write = null)
    {
        var deadline = DateTimeOffset.UtcNow + TimeSpan.FromSeconds(30);
        JsonNode? check = null;
        while (DateTimeOffset.UtcNow < deadline)
        {
            if (write is not null)
            {
                await write();
            }

            var (_, report, _) = await fixture.Api.GetAsync("/health");
            check = report!["checks"]!["postgres-replica"]!;
            if (condition(check))
            {
                return check;
            }

            await Task.Delay(500);
        }

        throw new TimeoutException($"the replica check never reached the expected state; last: {check}");
    }

    private static async Task ExecuteAsync(NpgsqlConnection connection, string sql)
    {
        await using var command = new NpgsqlCommand(sql, connection);
        await command.ExecuteNonQueryAsync();
    }

    /// <summary>A Server whose replica check degrades after one second of lag.</summary>
    public sealed class LagFixture : ServerFixture
    {
        protected override IReadOnlyDictionary<string, string?> Settings => new Dictionary<string, string?>
        {
            ["Health__ReplicaLagDegradedAfter"] = "00:00:01",
        };
    }
}
