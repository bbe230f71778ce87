using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Time.Testing;
using Orchestrator.Core.Llm;
using Orchestrator.Core.Operations;
using Orchestrator.Core.Tests.Fakes;
using Polly;
using Polly.CircuitBreaker;

namespace Orchestrator.Core.Tests.Operations;

/// <summary>Cluster-wide admin state: idempotent, audited changes, and breaker resets every instance applies once.</summary>
public sealed class OperationsStoreTests : IAsyncLifetime
{
    private readonly PostgresDatabase database = new();
    private readonly FakeTimeProvider time = new(new DateTimeOffset(2026, 12, 1, 3, 0, 0, TimeSpan.Zero));
    private OperationsStore store = null!;

    public async Task InitializeAsync()
    {
        await database.InitializeAsync();
        store = new OperationsStore(database.DataSource, time);
    }

    public Task DisposeAsync() => database.DisposeAsync();

    [Fact]
    public async Task Enabling_twice_changes_the_state_once_keeps_the_first_time_and_audits_both()
    {
        var first = await store.SetMaintenanceAsync(true, "upgrade", "admin-token", default);
        time.Advance(TimeSpan.FromMinutes(5));
        var second = await store.SetMaintenanceAsync(true, "again", "api-key:ops", default);

        Assert.True(first.Changed);
        Assert.False(second.Changed);
        Assert.Equal(first.State.Since, second.State.Since);
        var stored = await store.GetMaintenanceAsync(default);
        Assert.Equal((true, "upgrade", "admin-token"), (stored.Enabled, stored.Reason, stored.By));
        var audit = await store.GetAuditAsync(10, default);
        Assert.Equal([(false, "api-key:ops"), (true, "admin-token")], audit.Select(a => (a.Changed, a.Actor)));
    }

    [Fact]
    public async Task Concurrent_switches_leave_one_change_and_every_switch_audited()
    {
        var changes = await Task.WhenAll(Enumerable.Range(0, 8).Select(_ => store.SetMaintenanceAsync(true, null, "admin-token", default)));

        Assert.Single(changes, c => c.Changed);
        Assert.Equal(8, await database.CountAsync("admin_audit"));
        Assert.Equal(1, await database.CountAsync("settings"));
    }

    [Fact]
    public async Task A_reset_through_one_instance_closes_the_open_breaker_of_another_once()
    {
        // Two instances: each its own registry and cluster view, one database.
        var (here, there) = (new CircuitBreakerRegistry(), new CircuitBreakerRegistry());
        var pipeline = OpenBreaker(there, "openai");
        var clusterThere = new ClusterState(store, there, Options.Create(new OperationsOptions()), NullLogger<ClusterState>.Instance);
        await clusterThere.RefreshAsync(default);
        Assert.Equal(CircuitState.Open, there.States().Single().State);

        here.Register("openai");
        var reset = await store.RequestBreakerResetAsync(null, here.Names, "admin-token", "{}", default);
        Assert.Equal(1, reset["openai"]);
        Assert.Equal(CircuitState.Open, there.States().Single().State);

        await clusterThere.RefreshAsync(default);
        Assert.Equal(CircuitState.Closed, there.States().Single().State);

        // A later failure burst opens it again; the same reset generation does not close it a second time.
        await FailTwiceAsync(pipeline);
        await clusterThere.RefreshAsync(default);
        Assert.Equal(CircuitState.Open, there.States().Single().State);
    }

    [Fact]
    public async Task A_reset_of_an_unknown_name_resets_nothing_and_is_audited_as_no_change()
    {
        var reset = await store.RequestBreakerResetAsync("nope", ["openai"], "admin-token", "{}", default);

        Assert.Empty(reset);
        var entry = Assert.Single(await store.GetAuditAsync(10, default));
        Assert.Equal(("circuit-breaker.reset", "nope", false), (entry.Action, entry.Target, entry.Changed));
    }

    private static ResiliencePipeline OpenBreaker(CircuitBreakerRegistry registry, string name)
    {
        var (state, control) = registry.Register(name);
        var pipeline = new ResiliencePipelineBuilder()
            .AddCircuitBreaker(new CircuitBreakerStrategyOptions
            {
                FailureRatio = 0.5,
                MinimumThroughput = 2,
                BreakDuration = TimeSpan.FromHours(1),
                StateProvider = state,
                ManualControl = control,
                ShouldHandle = new PredicateBuilder().Handle<InvalidOperationException>(),
            })
            .Build();
        FailTwiceAsync(pipeline).GetAwaiter().GetResult();
        return pipeline;
    }

    private static async Task FailTwiceAsync(ResiliencePipeline pipeline)
    {
        for (var i = 0; i < 2; i++)
        {
            try
            {
                await pipeline.ExecuteAsync(_ => throw new InvalidOperationException("provider down"));
            }
            catch (InvalidOperationException)
            {
            }
        }
    }
}
