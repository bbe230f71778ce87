using Microsoft.Extensions.Time.Testing;
using Orchestrator.Core.Operations;
using Orchestrator.Core.Tests.Fakes;

namespace Orchestrator.Core.Tests.Operations;

/// <summary>Cluster-wide admin state: idempotent, audited changes, and breaker resets audited even when they reset nothing.</summary>
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
    public async Task A_reset_of_an_unknown_name_resets_nothing_and_is_audited_as_no_change()
    {
        var reset = await store.RequestBreakerResetAsync("nope", ["openai"], "admin-token", "{}", default);

        Assert.Empty(reset);
        var entry = Assert.Single(await store.GetAuditAsync(10, default));
        Assert.Equal(("circuit-breaker.reset", "nope", false), (entry.Action, entry.Target, entry.Changed));
    }
}
