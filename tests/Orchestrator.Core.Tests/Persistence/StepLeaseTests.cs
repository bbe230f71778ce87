using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using Orchestrator.Core.Hosting;
using Orchestrator.Core.Persistence;
using Orchestrator.Core.Resilience;
using Orchestrator.Core.Tests.Fakes;
using Orchestrator.Core.Workflows;

namespace Orchestrator.Core.Tests.Persistence;

/// <summary>A step's claim is a lease, and it reserves the call's maximum against the run's budget.</summary>
public sealed class StepLeaseTests : IAsyncLifetime
{
    private readonly PostgresDatabase database = new();
    private WorkflowStore store = null!;

    public async Task InitializeAsync()
    {
        await database.InitializeAsync();
        store = new WorkflowStore(database.DataSource);
        await store.InsertRunAsync(new NewRun("r1", "w", 1, """{"name":"w","steps":[]}""", "{}", null, null), default);
    }

    public Task DisposeAsync() => database.DisposeAsync();

    [Fact]
    public async Task A_live_lease_of_another_holder_turns_a_claim_away_without_counting_an_attempt()
    {
        await store.ClaimStepAsync(StepClaims.Request("r1", "a", holder: "node-a/p/1"), default);

        var other = await store.ClaimStepAsync(StepClaims.Request("r1", "a", holder: "node-b/p/1"), default);

        Assert.Equal((StepClaimKind.HeldElsewhere, "node-a/p/1"), (other.Kind, other.Holder));
        Assert.Equal(1, Assert.Single(await store.GetStepsAsync("r1", default)).Attempt);
    }

    [Fact]
    public async Task A_renewal_after_a_takeover_fails_and_the_first_completion_recorded_wins()
    {
        await store.ClaimStepAsync(StepClaims.Request("r1", "a", holder: "node-a/p/1", lease: TimeSpan.FromMilliseconds(200)), default);
        await Task.Delay(TimeSpan.FromMilliseconds(500));
        var takeover = await store.ClaimStepAsync(StepClaims.Request("r1", "a", holder: "node-b/p/1"), default);

        var renewed = await store.RenewStepLeaseAsync("r1", "a", 0, "node-a/p/1", TimeSpan.FromSeconds(15), default);
        await store.CompleteStepAsync(new StepCompletion("r1", "a", 0, StepStatus.Completed, "from b", 1, 1, 0m, "openai", "m", 1), default);
        await store.CompleteStepAsync(new StepCompletion("r1", "a", 0, StepStatus.Completed, "from a", 1, 1, 0m, "openai", "m", 1), default);

        Assert.Equal(StepClaimKind.Claimed, takeover.Kind);
        Assert.False(renewed);
        var step = Assert.Single(await store.GetStepsAsync("r1", default));
        Assert.Equal(("from b", 2), (step.Output, step.Attempt));
        Assert.Equal(2L, (await store.GetRunAsync("r1", default))!.TokensIn + (await store.GetRunAsync("r1", default))!.TokensOut);
    }

    [Fact]
    public async Task A_restarted_instance_releases_its_predecessors_leases_at_start_and_only_those()
    {
        await store.ClaimStepAsync(StepClaims.Request("r1", "a", holder: "node-a/oldprocess/e1", lease: TimeSpan.FromMinutes(10)), default);
        await store.ClaimStepAsync(StepClaims.Request("r1", "b", holder: "node-ab/process/e1", lease: TimeSpan.FromMinutes(10)), default);
        var restarted = new InstanceIdentity("node-a");
        await store.ClaimStepAsync(StepClaims.Request("r1", "c", holder: restarted.NewExecutionHolder(), lease: TimeSpan.FromMinutes(10)), default);

        await ReleaseAtStartAsync(restarted);
        await ReleaseAtStartAsync(restarted); // idempotent

        Assert.Equal(StepClaimKind.Claimed, (await store.ClaimStepAsync(StepClaims.Request("r1", "a", holder: restarted.NewExecutionHolder()), default)).Kind);
        Assert.Equal(StepClaimKind.HeldElsewhere, (await store.ClaimStepAsync(StepClaims.Request("r1", "b", holder: restarted.NewExecutionHolder()), default)).Kind);
        Assert.Equal(StepClaimKind.HeldElsewhere, (await store.ClaimStepAsync(StepClaims.Request("r1", "c", holder: restarted.NewExecutionHolder()), default)).Kind);
    }

    [Fact]
    public async Task Releasing_predecessors_while_the_database_is_down_lets_the_start_go_on()
    {
        var unreachable = new WorkflowStore(Npgsql.NpgsqlDataSource.Create("Host=127.0.0.1;Port=1;Database=none;Timeout=1"));
        var options = Options.Create(new ResilienceOptions { StepLeaseDuration = TimeSpan.FromSeconds(2) });
        using var release = new PredecessorLeaseRelease(
            unreachable, new InstanceIdentity("node-a"), new DatabaseRetry(options, TimeProvider.System, NullLogger<DatabaseRetry>.Instance),
            options, TimeProvider.System, NullLogger<PredecessorLeaseRelease>.Instance);

        await release.StartAsync(default).WaitAsync(TimeSpan.FromSeconds(5));
        await release.ExecuteTask!.WaitAsync(TimeSpan.FromSeconds(30)); // gives up after one lease, without throwing
    }

    [Fact]
    public async Task Concurrent_claims_of_a_runs_steps_never_reserve_more_than_its_budget()
    {
        var claims = await Task.WhenAll(Enumerable.Range(0, 20).Select(i =>
            store.ClaimStepAsync(Budgeted($"item.{i}", tokens: 100, maxTokens: 550), default)));

        Assert.Equal(5, claims.Count(c => c.Kind == StepClaimKind.Claimed));
        Assert.Equal(15, claims.Count(c => c.Kind == StepClaimKind.BudgetPending));
        Assert.Equal(500L, await ScalarAsync("SELECT sum(reserved_tokens)::bigint FROM workflow_steps WHERE status = 'Running'"));
        Assert.Equal(5L, await ScalarAsync("SELECT count(*) FROM workflow_steps"));
    }

    [Fact]
    public async Task A_pending_claim_runs_once_reservations_settle_and_is_exhausted_once_none_is_left_to_settle()
    {
        for (var i = 0; i < 3; i++)
        {
            Assert.Equal(StepClaimKind.Claimed, (await store.ClaimStepAsync(Budgeted($"s{i}", tokens: 100, maxTokens: 300), default)).Kind);
        }

        var pending = await store.ClaimStepAsync(Budgeted("s3", tokens: 100, maxTokens: 300), default);
        await Complete("s0", tokens: 40);
        await Complete("s1", tokens: 50);
        var fits = await store.ClaimStepAsync(Budgeted("s3", tokens: 100, maxTokens: 300), default);
        await Complete("s2", tokens: 100);
        await Complete("s3", tokens: 30);
        var exhausted = await store.ClaimStepAsync(Budgeted("s4", tokens: 100, maxTokens: 300), default);

        Assert.Equal((StepClaimKind.BudgetPending, 3), (pending.Kind, pending.Budget!.OutstandingReservations));
        Assert.Equal(StepClaimKind.Claimed, fits.Kind); // 90 spent + 100 reserved (s2) + 100 wanted
        Assert.Equal(StepClaimKind.BudgetExhausted, exhausted.Kind);
        Assert.Equal("budget exhausted before the call: 220 of 300 tokens spent or reserved, and this step may use up to 100 more", exhausted.Budget!.Describe());
        Assert.Equal(4L, await ScalarAsync("SELECT count(*) FROM workflow_steps"));
    }

    [Fact]
    public async Task Steps_reused_from_an_earlier_run_do_not_count_against_the_retry_runs_budget()
    {
        await store.InsertRunAsync(new NewRun("r0", "w", 1, """{"name":"w","steps":[]}""", "{}", null, null), default);
        await store.ClaimStepAsync(StepClaims.Request("r0", "a"), default);
        await store.CompleteStepAsync(new StepCompletion("r0", "a", 0, StepStatus.Completed, "paid", 900, 100, 1m, "openai", "m", 1), default);
        await store.CopyCompletedStepsAsync("r0", "r1", default);

        var claim = await store.ClaimStepAsync(Budgeted("b", tokens: 100, maxTokens: 500), default);

        Assert.Equal(StepClaimKind.Claimed, claim.Kind);
    }

    [Fact]
    public async Task A_lapsed_lease_no_longer_holds_its_reservation()
    {
        await store.ClaimStepAsync(Budgeted("a", tokens: 100, maxTokens: 150) with { LeaseDuration = TimeSpan.FromMilliseconds(200) }, default);
        await Task.Delay(TimeSpan.FromMilliseconds(500));

        Assert.Equal(StepClaimKind.Claimed, (await store.ClaimStepAsync(Budgeted("b", tokens: 100, maxTokens: 150), default)).Kind);
    }

    [Fact]
    public async Task A_cost_limit_is_reserved_against_like_a_token_limit()
    {
        var first = await store.ClaimStepAsync(Budgeted("a", tokens: 10, cost: 0.4m, maxCost: 1m), default);
        var second = await store.ClaimStepAsync(Budgeted("b", tokens: 10, cost: 0.4m, maxCost: 1m), default);
        var third = await store.ClaimStepAsync(Budgeted("c", tokens: 10, cost: 0.4m, maxCost: 1m), default);

        Assert.Equal((StepClaimKind.Claimed, StepClaimKind.Claimed, StepClaimKind.BudgetPending), (first.Kind, second.Kind, third.Kind));
        Assert.Contains("$0.8 of $1 spent or reserved", third.Budget!.Describe(), StringComparison.Ordinal);
    }

    private static StepClaimRequest Budgeted(string step, long tokens, long? maxTokens = null, decimal cost = 0m, decimal? maxCost = null) =>
        StepClaims.Request("r1", step, holder: $"node-a/p/{step}") with { ReservedTokens = tokens, ReservedCostUsd = cost, MaxTokens = maxTokens, MaxCostUsd = maxCost };

    private Task Complete(string step, int tokens) =>
        store.CompleteStepAsync(new StepCompletion("r1", step, 0, StepStatus.Completed, "out", tokens, 0, 0m, "openai", "m", 1), default);

    private async Task ReleaseAtStartAsync(InstanceIdentity identity)
    {
        var options = Options.Create(new ResilienceOptions());
        using var release = new PredecessorLeaseRelease(
            store, identity, new DatabaseRetry(options, TimeProvider.System, NullLogger<DatabaseRetry>.Instance), options, TimeProvider.System,
            NullLogger<PredecessorLeaseRelease>.Instance);
        await release.StartAsync(default);
        await release.ExecuteTask!.WaitAsync(TimeSpan.FromSeconds(30));
    }

    private async Task<long> ScalarAsync(string sql)
    {
        await using var command = database.DataSource.CreateCommand(sql);
        return Convert.ToInt64(await command.ExecuteScalarAsync(), System.Globalization.CultureInfo.InvariantCulture);
    }
}
