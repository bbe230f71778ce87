using Microsoft.DurableTask;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Orchestrator.Core.Hosting;
using Orchestrator.Core.Llm;
using Orchestrator.Core.Persistence;
using Orchestrator.Core.Resilience;

namespace Orchestrator.Core.Workflows;

/// <summary>
/// Runs one LLM step and records it, in one activity. Activities run at least once, and the task hub may hand the
/// same activity to a second execution while the first still runs, so it first claims the step under a lease: a
/// result that already exists (an earlier attempt, or a step reused by a retry run) is returned without a call, and
/// a step another execution holds is waited for (its result returned, or the step taken over once its lease lapses).
/// The claim also reserves the most the call may spend against the run's budget. While PostgreSQL is unavailable
/// every database call waits with back-off, and a reply already paid for is kept in <see cref="PaidResults"/> until
/// it is recorded: an outage delays a step, it does not buy it twice.
/// </summary>
public sealed class RunLlmStepActivity(
    WorkflowStore store, LlmGateway llm, IOptions<LlmOptions> options, TimeProvider time, ILogger<RunLlmStepActivity> logger,
    DatabaseRetry database, PaidResults paid, InstanceIdentity identity, IOptions<ResilienceOptions> resilience, Metrics.OrchestratorMetrics? metrics = null)
    : TaskActivity<LlmStepRequest, StepResult>
{
    public override Task<StepResult> RunAsync(TaskActivityContext context, LlmStepRequest input) => ExecuteAsync(input, CancellationToken.None);

    public async Task<StepResult> ExecuteAsync(LlmStepRequest input, CancellationToken cancellationToken)
    {
        using var scope = StepDiagnostics.Step(logger, input.RunId, input.StepId, input.Iteration);
        var holder = identity.NewExecutionHolder();
        var request = ToLlmRequest(input);
        var reservation = llm.Reserve(request);
        var (claim, waitedFor) = await ClaimAsync(input, holder, reservation, cancellationToken);
        switch (claim.Kind)
        {
            case StepClaimKind.AlreadyCompleted when waitedFor is not null && claim.Completed!.ReusedFrom is null:
                // The execution this one waited for made the call: it is this run's own result, so it is not marked
                // reused and the orchestration counts its tokens (once: only one of the two executions' results is
                // taken for the scheduled task).
                var theirs = claim.Completed;
                Log.StepCompletedElsewhere(logger, input.RunId, input.StepId, input.Iteration);
                return new StepResult(theirs.Output ?? string.Empty, theirs.TokensIn, theirs.TokensOut, theirs.CostUsd, theirs.Provider, Reused: false);
            case StepClaimKind.AlreadyCompleted:
                var done = claim.Completed!;
                Log.StepReused(logger, input.RunId, input.StepId, input.Iteration, done.ReusedFrom ?? input.RunId);
                return new StepResult(done.Output ?? string.Empty, done.TokensIn, done.TokensOut, done.CostUsd, done.Provider, Reused: true, done.ReusedFrom);
            case StepClaimKind.RunFinished:
                throw new RunNotActiveException($"run {input.RunId} is {claim.RunStatus ?? "unknown"}; step '{input.StepId}' was not started");
            case StepClaimKind.BudgetExhausted:
                var reason = claim.Budget!.Describe();
                Log.BudgetExhausted(logger, input.RunId, input.StepId, input.Iteration, reason);
                await database.ExecuteAsync(
                    "recording a step the budget refused",
                    token => store.RefuseStepAsync(input.RunId, input.StepId, input.Iteration, Definitions.StepTypes.Llm, reason, token),
                    cancellationToken);
                throw new BudgetExceededException(reason);
        }

        if (waitedFor is not null)
        {
            Log.StepTakenOver(logger, input.RunId, input.StepId, input.Iteration, waitedFor);
        }

        using var stopRenewing = new CancellationTokenSource();
        var renewal = RenewLeaseAsync(input, holder, stopRenewing.Token);
        try
        {
            return await RunClaimedAsync(input, request, holder, cancellationToken);
        }
        finally
        {
            await stopRenewing.CancelAsync();
            await renewal;
        }
    }

    /// <summary>
    /// Claims the step, waiting (without a call) while another execution holds it or while the run's budget waits
    /// for other calls' reservations to settle. Returns the claim and the holder it waited for, if any.
    /// </summary>
    private async Task<(StepClaim Claim, string? WaitedFor)> ClaimAsync(LlmStepRequest input, string holder, LlmReservation reservation, CancellationToken cancellationToken)
    {
        var lease = resilience.Value.StepLeaseDuration;
        var claimRequest = new StepClaimRequest(
            input.RunId, input.StepId, input.Iteration, Definitions.StepTypes.Llm, holder, lease, input.RestoreEpoch,
            reservation.Tokens, reservation.CostUsd, input.BudgetMaxTokens, input.BudgetMaxCostUsd);
        string? waitedFor = null;
        var pendingLogged = false;
        while (true)
        {
            var claim = await database.ExecuteAsync("claiming a step", token => store.ClaimStepAsync(claimRequest, token), cancellationToken);
            switch (claim.Kind)
            {
                case StepClaimKind.HeldElsewhere:
                    // Poll until the holder's row changes. Completed: its result is returned. Its lease lapsed (no
                    // heartbeat: the holder died or stalled): the next claim takes the step over. Its attempt failed:
                    // the row is Failed with the lease cleared, and the next claim makes a fresh attempt, as a retry
                    // would. That is deliberate: this execution is a duplicate of the same scheduled task, which still
                    // wants a result; when the orchestration has already taken the holder's failure and retries, its
                    // retry finds this attempt's result recorded (or held) and reuses it instead of paying again, and
                    // when that failure ended the run, the next claim sees the run finished and calls nothing.
                    if (!string.Equals(waitedFor, claim.Holder, StringComparison.Ordinal))
                    {
                        Log.StepHeldElsewhere(logger, input.RunId, input.StepId, input.Iteration, claim.Holder!);
                        waitedFor = claim.Holder;
                    }

                    break;
                case StepClaimKind.BudgetPending:
                    if (!pendingLogged)
                    {
                        Log.BudgetPending(logger, input.RunId, input.StepId, input.Iteration, claim.Budget!.OutstandingReservations, claim.Budget.Describe());
                        pendingLogged = true;
                    }

                    break;
                default:
                    return (claim, waitedFor);
            }

            await Task.Delay(resilience.Value.StepWaitPollInterval, time, cancellationToken);
        }
    }

    /// <summary>Renews the lease until <paramref name="stop"/>; a lease found taken over is left to its new holder.</summary>
    private async Task RenewLeaseAsync(LlmStepRequest input, string holder, CancellationToken stop)
    {
        var settings = resilience.Value;
        try
        {
            using var timer = new PeriodicTimer(settings.StepLeaseRenewInterval, time);
            while (await timer.WaitForNextTickAsync(stop))
            {
                try
                {
                    var renewed = await database.ExecuteAsync(
                        "renewing a step's lease",
                        token => store.RenewStepLeaseAsync(input.RunId, input.StepId, input.Iteration, holder, settings.StepLeaseDuration, token),
                        stop);
                    if (!renewed)
                    {
                        Log.StepLeaseLost(logger, input.RunId, input.StepId, input.Iteration);
                        return;
                    }
                }
                catch (DependencyUnavailableException ex)
                {
                    Log.StepLeaseNotRenewed(logger, input.RunId, input.StepId, input.Iteration, ex.Message);
                }
            }
        }
        catch (OperationCanceledException) when (stop.IsCancellationRequested)
        {
        }
    }

    private async Task<StepResult> RunClaimedAsync(LlmStepRequest input, LlmRequest request, string holder, CancellationToken cancellationToken)
    {
        LlmCompletion completion;
        int latency;
        if (paid.Find(input.RunId, input.StepId, input.Iteration) is { } kept)
        {
            (completion, latency) = kept;
            Log.PaidResultRecorded(logger, input.RunId, input.StepId, input.Iteration);
        }
        else
        {
            Log.StepStarted(logger, input.RunId, input.StepId, input.Iteration, (input.Route is { Count: > 0 } route ? route[0].Name : input.Provider ?? llm.Provider));
            var started = time.GetTimestamp();
            try
            {
                completion = await CallAsync(input, request, cancellationToken);
            }
            catch (Exception ex) when (ex is LlmRequestRejectedException or LlmUnavailableException or StructuredOutputException)
            {
                var failedAfter = (int)time.GetElapsedTime(started).TotalMilliseconds;
                await RecordFailureAsync(input, ex, failedAfter, holder, cancellationToken);
                Log.StepFailed(logger, input.RunId, input.StepId, input.Iteration, ex.Message);
                metrics?.StepDuration.WithLabels(Definitions.StepTypes.Llm, "failed").Observe(failedAfter / 1000.0);
                throw;
            }

            latency = (int)time.GetElapsedTime(started).TotalMilliseconds;
            paid.Keep(input.RunId, input.StepId, input.Iteration, completion, latency);
        }

        await database.ExecuteAsync(
            "recording a step's result",
            token => store.CompleteStepAsync(
                new StepCompletion(input.RunId, input.StepId, input.Iteration, StepStatus.Completed, completion.Text,
                    completion.InputTokens, completion.OutputTokens, completion.CostUsd, completion.Provider, completion.Model, latency)
                { SkippedProvidersJson = SkippedJson(completion.Skipped) },
                token),
            cancellationToken);
        paid.Forget(input.RunId, input.StepId, input.Iteration);
        Log.StepCompleted(logger, input.RunId, input.StepId, input.Iteration, latency);
        metrics?.StepDuration.WithLabels(Definitions.StepTypes.Llm, "completed").Observe(latency / 1000.0);
        return new StepResult(completion.Text, completion.InputTokens, completion.OutputTokens, completion.CostUsd, completion.Provider, Reused: false);
    }

    private static string? SkippedJson(IReadOnlyList<LlmSkip> skipped) =>
        skipped.Count == 0 ? null : System.Text.Json.JsonSerializer.Serialize(skipped, System.Text.Json.JsonSerializerOptions.Web);

    private static LlmRequest ToLlmRequest(LlmStepRequest input) =>
        new(input.Prompt, input.System, input.Model, input.MaxTokens, input.Temperature) { JsonSchema = input.OutputSchemaJson, Provider = input.Provider, Route = input.Route };

    /// <summary>
    /// Records a failed attempt. When the database stays away the failure itself still reaches the orchestration
    /// (the step's error is what matters); the record is then missing that one failed attempt.
    /// </summary>
    private async Task RecordFailureAsync(LlmStepRequest input, Exception failure, int failedAfter, string holder, CancellationToken cancellationToken)
    {
        var spent = (failure as StructuredOutputException)?.Spent;
        try
        {
            await database.ExecuteAsync(
                "recording a failed step",
                token => store.FailStepAsync(input.RunId, input.StepId, input.Iteration, failure.Message, spent?.Provider ?? llm.Provider, failedAfter, spent, token, holder),
                cancellationToken);
        }
        catch (DependencyUnavailableException ex)
        {
            Log.StepFailureNotRecorded(logger, input.RunId, input.StepId, input.Iteration, ex.Message);
        }
    }

    /// <summary>One call, or — with an output schema — calls until the reply validates or the repairs run out.</summary>
    private async Task<LlmCompletion> CallAsync(LlmStepRequest input, LlmRequest request, CancellationToken cancellationToken)
    {
        var completion = await llm.CompleteAsync(request, cancellationToken);
        if (input.OutputSchemaJson is null)
        {
            return completion;
        }

        var repairs = input.MaxRepairs ?? options.Value.StructuredOutputRepairs;
        var conversation = new List<(string Role, string Text)>();
        var (inTokens, outTokens, cost) = (completion.InputTokens, completion.OutputTokens, completion.CostUsd);
        for (var attempt = 0; ; attempt++)
        {
            var (value, problems) = StructuredReplies.Check(completion.Text, input.OutputSchemaJson);
            if (value is not null)
            {
                return completion with { Text = value.ToJsonString(), InputTokens = inTokens, OutputTokens = outTokens, CostUsd = cost };
            }

            if (attempt >= repairs)
            {
                throw new StructuredOutputException(
                    $"the reply did not match the output schema after {repairs} repair(s): {problems}",
                    completion with { InputTokens = inTokens, OutputTokens = outTokens, CostUsd = cost });
            }

            Log.StructuredOutputRepair(logger, input.RunId, input.StepId, input.Iteration, attempt + 1, problems!);
            conversation.Add(("assistant", completion.Text));
            conversation.Add(("user", $"Your reply was invalid:\n{problems}\nReply again with only a JSON value that satisfies the schema."));
            completion = await llm.CompleteAsync(request with { Conversation = conversation.ToList() }, cancellationToken);
            (inTokens, outTokens, cost) = (inTokens + completion.InputTokens, outTokens + completion.OutputTokens, cost + completion.CostUsd);
        }
    }
}
