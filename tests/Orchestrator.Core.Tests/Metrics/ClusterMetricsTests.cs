using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Time.Testing;
using Npgsql;
using Orchestrator.Core.Llm;
using Orchestrator.Core.Metrics;
using Orchestrator.Core.Persistence;
using Orchestrator.Core.Tests.Fakes;

namespace Orchestrator.Core.Tests.Metrics;

/// <summary>The scrape-time series: counts from PostgreSQL read at most once per cache period, pool figures from Npgsql's meters.</summary>
public sealed class ClusterMetricsTests : IAsyncLifetime
{
    private readonly PostgresDatabase database = new();
    private readonly FakeTimeProvider time = new(DateTimeOffset.UtcNow);
    private NpgsqlDataSource primary = null!;

    public async Task InitializeAsync()
    {
        await database.InitializeAsync();
        primary = new NpgsqlDataSourceBuilder(new NpgsqlConnectionStringBuilder(database.ConnectionString) { MaxPoolSize = 7 }.ConnectionString)
        {
            Name = NpgsqlPoolMetrics.DataSourceName,
        }.Build();
    }

    public async Task DisposeAsync()
    {
        await primary.DisposeAsync();
        await database.DisposeAsync();
    }

    [Fact]
    public async Task Run_counts_come_from_postgres_and_are_read_once_per_cache_period()
    {
        var store = new WorkflowStore(primary);
        await store.InsertRunAsync(new NewRun("a", "w", 1, """{"steps":[]}""", "{}", null, null), default);
        await store.InsertRunAsync(new NewRun("b", "w", 1, """{"steps":[]}""", "{}", null, null), default);
        await store.FinishRunAsync("b", "Failed", null, "boom", default);
        var (metrics, cluster) = Create();

        await cluster.CollectAsync(default);
        await store.InsertRunAsync(new NewRun("c", "w", 1, """{"steps":[]}""", "{}", null, null), default);
        await cluster.CollectAsync(default); // inside the cache period: the new run is not read yet

        Assert.Equal(1, metrics.Workflows.WithLabels("Pending").Value);
        Assert.Equal(1, metrics.Workflows.WithLabels("Failed").Value);
        Assert.Equal(0, metrics.Workflows.WithLabels("Completed").Value);
        Assert.Equal(1, metrics.WorkflowErrors.Value);
        Assert.Equal(1, metrics.DatabaseReads.Value);

        time.Advance(TimeSpan.FromSeconds(6));
        await cluster.CollectAsync(default);

        Assert.Equal(2, metrics.Workflows.WithLabels("Pending").Value);
        Assert.Equal(2, metrics.DatabaseReads.Value);
        Assert.Equal(1, metrics.DatabaseUp.Value);
    }

    [Fact]
    public async Task One_instance_per_cache_period_counts_the_runs_and_the_others_read_its_snapshot()
    {
        var store = new WorkflowStore(primary);
        await store.InsertRunAsync(new NewRun("a", "w", 1, """{"steps":[]}""", "{}", null, null), default);
        var (first, firstCluster) = Create();
        var (second, secondCluster) = Create();

        await firstCluster.CollectAsync(default);
        await store.InsertRunAsync(new NewRun("b", "w", 1, """{"steps":[]}""", "{}", null, null), default);
        await secondCluster.CollectAsync(default);

        Assert.Equal((1, 0), (first.SnapshotRefreshes.Value, second.SnapshotRefreshes.Value));
        Assert.Equal(1, second.Workflows.WithLabels("Pending").Value); // the first instance's snapshot, not a count of its own

        time.Advance(TimeSpan.FromSeconds(6));
        await secondCluster.CollectAsync(default);

        Assert.Equal(1, second.SnapshotRefreshes.Value);
        Assert.Equal(2, second.Workflows.WithLabels("Pending").Value);
    }

    [Fact]
    public async Task Maintenance_mode_is_reported_as_this_instance_obeys_it_on_every_scrape()
    {
        var metrics = new OrchestratorMetrics();
        var state = ClusterStates.For(primary);
        var cluster = new ClusterMetrics(primary, metrics, new NpgsqlPoolMetrics(metrics), new CircuitBreakerRegistry(), state,
            Options.Create(new MetricsOptions()), time, NullLogger<ClusterMetrics>.Instance);
        await cluster.CollectAsync(default);
        Assert.Equal(0, metrics.MaintenanceMode.Value);

        state.Apply(new Orchestrator.Core.Operations.MaintenanceState(true, time.GetUtcNow(), null, "admin-token"));
        await cluster.CollectAsync(default); // inside the database cache period

        Assert.Equal(1, metrics.MaintenanceMode.Value);
    }

    [Fact]
    public async Task Pool_figures_are_this_data_sources_own()
    {
        var (metrics, cluster) = Create();
        await using var held = await primary.OpenConnectionAsync();
        await using (await primary.OpenConnectionAsync())
        {
        }

        await cluster.CollectAsync(default);

        Assert.Equal(7, metrics.PoolMaxConnections.Value);
        Assert.True(metrics.PoolConnections.WithLabels("busy").Value >= 1);
        Assert.True(metrics.PoolConnections.WithLabels("busy").Value + metrics.PoolConnections.WithLabels("idle").Value >= 2);
        Assert.Equal(0, metrics.PoolPendingRequests.Value);
    }

    [Fact]
    public async Task When_postgres_does_not_answer_the_last_values_stand_and_the_scrape_says_so()
    {
        await new WorkflowStore(primary).InsertRunAsync(new NewRun("a", "w", 1, """{"steps":[]}""", "{}", null, null), default);
        var (metrics, cluster) = Create();
        await cluster.CollectAsync(default);
        await using var unreachable = NpgsqlDataSource.Create("Host=127.0.0.1;Port=1;Database=x;Username=x;Password=x;Timeout=1");
        var broken = new ClusterMetrics(unreachable, metrics, new NpgsqlPoolMetrics(metrics), new CircuitBreakerRegistry(), ClusterStates.For(primary),
            Options.Create(new MetricsOptions { DatabaseTimeout = TimeSpan.FromSeconds(1) }), time, NullLogger<ClusterMetrics>.Instance);
        time.Advance(TimeSpan.FromSeconds(6));

        await broken.CollectAsync(default);

        Assert.Equal(0, metrics.DatabaseUp.Value);
        Assert.Equal(1, metrics.Workflows.WithLabels("Pending").Value);
    }

    [Fact]
    public async Task Unresolved_incidents_are_counted_by_severity_and_every_severity_is_exported()
    {
        await IncidentRows.IncidentAsync(primary, IncidentRows.T0, "P1", "open");
        await IncidentRows.IncidentAsync(primary, IncidentRows.T0, "P1", "acknowledged", acknowledgedBy: "admin-token");
        await IncidentRows.IncidentAsync(primary, IncidentRows.T0, "P2", "open");
        await IncidentRows.IncidentAsync(primary, IncidentRows.T0, "P0", "resolved", resolvedAt: IncidentRows.T0, resolvedBy: "monitor");
        var (metrics, cluster) = Create();

        await cluster.CollectAsync(default);

        Assert.Equal(
            [("P0", 0.0), ("P1", 2.0), ("P2", 1.0), ("P3", 0.0)],
            new[] { "P0", "P1", "P2", "P3" }.Select(s => (s, metrics.IncidentsOpen.WithLabels(s).Value)));

        await using (var resolve = primary.CreateCommand("UPDATE incidents SET status = 'resolved', resolved_at = now() WHERE severity = 'P2'"))
        {
            await resolve.ExecuteNonQueryAsync();
        }

        time.Advance(TimeSpan.FromSeconds(6));
        await cluster.CollectAsync(default);

        Assert.Equal(0, metrics.IncidentsOpen.WithLabels("P2").Value);
    }

    private (OrchestratorMetrics Metrics, ClusterMetrics Cluster) Create()
    {
        var metrics = new OrchestratorMetrics();
        var cluster = new ClusterMetrics(primary, metrics, new NpgsqlPoolMetrics(metrics), new CircuitBreakerRegistry(), ClusterStates.For(primary),
            Options.Create(new MetricsOptions()), time, NullLogger<ClusterMetrics>.Instance);
        return (metrics, cluster);
    }
}
