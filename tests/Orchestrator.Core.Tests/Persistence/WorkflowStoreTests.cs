using Orchestrator.Core.Persistence;
using Orchestrator.Core.Tests.Fakes;
using Orchestrator.Core.Workflows;

namespace Orchestrator.Core.Tests.Persistence;

/// <summary>Activities run at least once: every write the store makes for them can be repeated without effect.</summary>
public sealed class WorkflowStoreTests : IAsyncLifetime
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
    public async Task Completing_a_step_twice_records_it_once_and_counts_its_tokens_once()
    {
        await store.ClaimStepAsync(StepClaims.Request("r1", "a", 0), default);
        var completion = new StepCompletion("r1", "a", 0, StepStatus.Completed, "out", 10, 5, 0.25m, "openai", "m", 40);

        await store.CompleteStepAsync(completion, default);
        await store.CompleteStepAsync(completion with { Output = "second", TokensIn = 99 }, default);

        var step = Assert.Single(await store.GetStepsAsync("r1", default));
        Assert.Equal(("out", 10, 1), (step.Output, step.TokensIn, step.Attempt));
        var run = (await store.GetRunAsync("r1", default))!;
        Assert.Equal((10L, 5L, 0.25m, RunStatus.Running), (run.TokensIn, run.TokensOut, run.CostUsd, run.Status));
        Assert.NotNull(run.LastCheckpoint);
    }

    [Fact]
    public async Task A_claim_after_completion_returns_the_recorded_result_and_a_repeat_claim_counts_an_attempt()
    {
        await store.ClaimStepAsync(StepClaims.Request("r1", "a", 0), default);
        var again = await store.ClaimStepAsync(StepClaims.Request("r1", "a", 0), default);
        Assert.Equal(StepClaimKind.Claimed, again.Kind);
        Assert.Equal(2, Assert.Single(await store.GetStepsAsync("r1", default)).Attempt);

        await store.CompleteStepAsync(new StepCompletion("r1", "a", 0, StepStatus.Completed, "out", 1, 1, 0m, "openai", "m", 1), default);
        var afterCompletion = await store.ClaimStepAsync(StepClaims.Request("r1", "a", 0), default);

        Assert.Equal(StepClaimKind.AlreadyCompleted, afterCompletion.Kind);
        Assert.Equal("out", afterCompletion.Completed!.Output);
    }

    [Fact]
    public async Task A_cancelled_run_refuses_new_steps_and_is_never_overwritten_by_its_orchestration()
    {
        var (cancelled, previous) = await store.CancelRunAsync("r1", "operator", default);
        var claim = await store.ClaimStepAsync(StepClaims.Request("r1", "a", 0), default);
        var finished = await store.FinishRunAsync("r1", RunStatus.Completed, "\"late\"", null, default);

        Assert.True(cancelled);
        Assert.Equal(RunStatus.Pending, previous);
        Assert.Equal(StepClaimKind.RunFinished, claim.Kind);
        Assert.False(finished);
        Assert.Equal(RunStatus.Cancelled, (await store.GetRunAsync("r1", default))!.Status);
        Assert.Empty(await store.GetStepsAsync("r1", default));
    }

    [Fact]
    public async Task Recording_a_finished_step_again_keeps_the_first_result()
    {
        var first = await store.RecordStepAsync(new RecordStepRequest("r1", "t", 0, "transform", StepStatus.Completed, "1", null), default);
        var second = await store.RecordStepAsync(new RecordStepRequest("r1", "t", 0, "transform", StepStatus.Completed, "2", null), default);
        var waiting = await store.RecordStepAsync(new RecordStepRequest("r1", "t", 0, "transform", StepStatus.Waiting, null, null), default);

        Assert.Equal(("1", false), (first.OutputJson, first.AlreadyFinished));
        Assert.Equal(("1", true), (second.OutputJson, second.AlreadyFinished));
        Assert.Equal((StepStatus.Completed, true), (waiting.Status, waiting.AlreadyFinished));
    }

    [Fact]
    public async Task After_a_restore_only_an_orchestration_started_after_it_may_claim_record_or_finish()
    {
        await using (var mark = database.DataSource.CreateCommand(
            "INSERT INTO settings (key, value) VALUES ('database_restored', jsonb_build_object('at', '2026-12-01 10:00:00+00'))"))
        {
            await mark.ExecuteNonQueryAsync();
        }

        var epoch = await store.GetRestoreEpochAsync(default);
        var staleClaim = await store.ClaimStepAsync(StepClaims.Request("r1", "a", 0), default);
        var staleRecord = await Assert.ThrowsAsync<RunNotActiveException>(() =>
            store.RecordStepAsync(new RecordStepRequest("r1", "t", 0, "transform", StepStatus.Completed, "1", null), default));
        var staleFinish = await store.FinishRunAsync("r1", RunStatus.Completed, "\"stale\"", null, default, new RestoreFence(null));

        Assert.Equal("2026-12-01 10:00:00+00", epoch);
        Assert.Equal((StepClaimKind.RunFinished, RestoreFence.Superseded), (staleClaim.Kind, staleClaim.RunStatus));
        Assert.Contains("superseded", staleRecord.Message, StringComparison.Ordinal);
        Assert.False(staleFinish);
        Assert.Empty(await store.GetStepsAsync("r1", default));

        Assert.Equal(StepClaimKind.Claimed, (await store.ClaimStepAsync(StepClaims.Request("r1", "a", 0, restoreEpoch: epoch), default)).Kind);
        Assert.False((await store.RecordStepAsync(new RecordStepRequest("r1", "t", 0, "transform", StepStatus.Completed, "1", null, RestoreEpoch: epoch), default)).AlreadyFinished);
        Assert.True(await store.FinishRunAsync("r1", RunStatus.Completed, "\"fresh\"", null, default, new RestoreFence(epoch)));
        Assert.Equal(RunStatus.Completed, (await store.GetRunAsync("r1", default))!.Status);
    }
}
