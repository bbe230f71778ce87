using Microsoft.DurableTask;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using Orchestrator.Core.Hosting;
using Orchestrator.Core.Llm;
using Orchestrator.Core.Persistence;
using Orchestrator.Core.Resilience;
using Orchestrator.Core.Tests.Fakes;
using Orchestrator.Core.Workflows;

namespace Orchestrator.Core.Tests.Workflows;

/// <summary>
/// The step activity against real PostgreSQL and an OpenAI endpoint over real HTTP: the step's lease makes a second
/// execution of the same activity wait for the first instead of paying for the call again.
/// </summary>
public sealed class RunLlmStepActivityTests : IAsyncLifetime
{
    private static readonly LlmStepRequest Step = new("r1", "summarize", 0, "Summarize the report", null, null, 50, null);
    private readonly PostgresDatabase database = new();
    private readonly List<LlmGateway> gateways = [];
    private WorkflowStore store = null!;

    public async Task InitializeAsync()
    {
        await database.InitializeAsync();
        store = new WorkflowStore(database.DataSource);
        await store.InsertRunAsync(new NewRun("r1", "w", 1, """{"name":"w","steps":[]}""", "{}", null, null), default);
    }

    public async Task DisposeAsync()
    {
        gateways.ForEach(g => g.Dispose());
        await database.DisposeAsync();
    }

    [Fact]
    public async Task Two_executions_of_the_same_step_at_once_make_one_call_and_record_one_result()
    {
        await using var llm = await OpenAiStub.StartAsync(held: true);
        var identity = new InstanceIdentity("node-a");
        var first = Activity(llm, identity).ExecuteAsync(Step, default);
        await llm.WaitForRequestsAsync(1);

        // The queue hands the same activity to this process again while the first execution's call still runs.
        var second = Activity(llm, identity).ExecuteAsync(Step, default);
        await Task.Delay(TimeSpan.FromSeconds(1));
        Assert.False(second.IsCompleted);
        llm.Release();
        var results = await Task.WhenAll(first, second);

        Assert.Equal(1, llm.Requests);
        Assert.All(results, r => Assert.Equal(("stub answer", 7, 3, null as string), (r.Output, r.TokensIn, r.TokensOut, r.ReusedFrom)));
        Assert.False(results[1].Reused);
        var step = Assert.Single(await store.GetStepsAsync("r1", default));
        Assert.Equal((StepStatus.Completed, 1), (step.Status, step.Attempt));
        var run = (await store.GetRunAsync("r1", default))!;
        Assert.Equal((7L, 3L), (run.TokensIn, run.TokensOut));
        Assert.Equal((0L, 0L), await LeaseAndReservationAsync());
    }

    [Fact]
    public async Task A_long_call_keeps_its_lease_by_renewing_it_so_a_later_execution_still_waits()
    {
        await using var llm = await OpenAiStub.StartAsync(held: true);
        var resilience = new ResilienceOptions { StepLeaseDuration = TimeSpan.FromSeconds(2), StepLeaseRenewInterval = TimeSpan.FromMilliseconds(250), StepWaitPollInterval = TimeSpan.FromMilliseconds(100) };
        var first = Activity(llm, new InstanceIdentity("node-a"), resilience).ExecuteAsync(Step, default);
        await llm.WaitForRequestsAsync(1);

        // Three leases long: only renewals keep it (a lease of eight renewal intervals rides out a loaded machine's stalls).
        await Task.Delay(TimeSpan.FromSeconds(6));
        var second = Activity(llm, new InstanceIdentity("node-b"), resilience).ExecuteAsync(Step, default);
        await Task.Delay(TimeSpan.FromSeconds(2));
        Assert.Equal(1, llm.Requests);
        Assert.False(second.IsCompleted);
        llm.Release();
        await Task.WhenAll(first, second);

        Assert.Equal(1, llm.Requests);
        Assert.Equal(1, Assert.Single(await store.GetStepsAsync("r1", default)).Attempt);
    }

    [Fact]
    public async Task A_lease_whose_holder_stopped_renewing_is_taken_over_once_it_lapses()
    {
        await using var llm = await OpenAiStub.StartAsync();
        var resilience = new ResilienceOptions { StepWaitPollInterval = TimeSpan.FromMilliseconds(100) };
        // A holder that claimed the step and then died: nobody renews its two-second lease.
        Assert.Equal(StepClaimKind.Claimed, (await store.ClaimStepAsync(StepClaims.Request("r1", "summarize", holder: "node-dead/p/e", lease: TimeSpan.FromSeconds(2)), default)).Kind);

        var takeover = Activity(llm, new InstanceIdentity("node-a"), resilience).ExecuteAsync(Step, default);
        await Task.Delay(TimeSpan.FromMilliseconds(500));
        Assert.Equal(0, llm.Requests);
        Assert.False(takeover.IsCompleted);
        var result = await takeover.WaitAsync(TimeSpan.FromSeconds(30));

        Assert.Equal(1, llm.Requests);
        Assert.Equal("stub answer", result.Output);
        var step = Assert.Single(await store.GetStepsAsync("r1", default));
        Assert.Equal((StepStatus.Completed, 2), (step.Status, step.Attempt));
    }

    [Fact]
    public async Task A_step_the_budget_cannot_fit_fails_at_once_without_a_call_a_paid_attempt_or_a_retry()
    {
        await using var llm = await OpenAiStub.StartAsync();
        var budgeted = Step with { BudgetMaxTokens = 40 }; // the call may use 5 input tokens (20 characters) + 50 output

        var error = await Assert.ThrowsAsync<BudgetExceededException>(() => Activity(llm, new InstanceIdentity("node-a")).ExecuteAsync(budgeted, default));

        Assert.Equal("budget exhausted before the call: 0 of 40 tokens spent or reserved, and this step may use up to 55 more", error.Message);
        Assert.Equal(0, llm.Requests);
        var step = Assert.Single(await store.GetStepsAsync("r1", default));
        Assert.Equal((StepStatus.Failed, 0, error.Message), (step.Status, step.Attempt, step.Error));
        var run = (await store.GetRunAsync("r1", default))!;
        Assert.Equal((0L, 0L), (run.TokensIn, run.TokensOut));
        var failure = new TaskFailureDetails(typeof(BudgetExceededException).FullName!, error.Message, null, null, null);
        Assert.False(StepFailures.IsRetryable(failure));
        Assert.False(DependencyFailures.IsOutage(failure));
    }

    [Fact]
    public async Task A_step_waits_for_another_calls_reservation_to_settle_and_then_runs_within_the_budget()
    {
        await using var llm = await OpenAiStub.StartAsync(held: true);
        var resilience = new ResilienceOptions { StepWaitPollInterval = TimeSpan.FromMilliseconds(100) };
        var a = Step with { BudgetMaxTokens = 100 };
        var b = a with { StepId = "classify" };

        var first = Activity(llm, new InstanceIdentity("node-a"), resilience).ExecuteAsync(a, default);
        await llm.WaitForRequestsAsync(1);
        var second = Activity(llm, new InstanceIdentity("node-a"), resilience).ExecuteAsync(b, default);
        await Task.Delay(TimeSpan.FromMilliseconds(800));
        Assert.Equal(1, llm.Requests); // 55 reserved + 55 wanted > 100: pending, not exhausted
        Assert.False(second.IsCompleted);

        llm.Release(); // the first call settles at 10 tokens: 10 + 55 fits
        await Task.WhenAll(first, second).WaitAsync(TimeSpan.FromSeconds(30));

        Assert.Equal(2, llm.Requests);
        Assert.Equal(20L, (await store.GetRunAsync("r1", default))!.TokensIn + (await store.GetRunAsync("r1", default))!.TokensOut);
    }

    private RunLlmStepActivity Activity(OpenAiStub llm, InstanceIdentity identity, ResilienceOptions? resilience = null)
    {
        resilience ??= new ResilienceOptions { StepWaitPollInterval = TimeSpan.FromMilliseconds(100) };
        var llmOptions = Options.Create(new LlmOptions { Provider = LlmOptions.OpenAi, Endpoint = llm.BaseUrl, ApiKey = "test-key", Model = "stub-model" });
        var gateway = Gateways.Create(llmOptions.Value, database.DataSource);
        gateways.Add(gateway);
        return new RunLlmStepActivity(
            store, gateway, llmOptions, TimeProvider.System, NullLogger<RunLlmStepActivity>.Instance,
            new DatabaseRetry(Options.Create(resilience), TimeProvider.System, NullLogger<DatabaseRetry>.Instance),
            new PaidResults(TimeProvider.System), identity, Options.Create(resilience));
    }

    private async Task<(long Leases, long Reserved)> LeaseAndReservationAsync()
    {
        await using var command = database.DataSource.CreateCommand("SELECT count(lease_holder), COALESCE(sum(reserved_tokens), 0)::bigint FROM workflow_steps");
        await using var reader = await command.ExecuteReaderAsync();
        await reader.ReadAsync();
        return (reader.GetInt64(0), reader.GetInt64(1));
    }
}
