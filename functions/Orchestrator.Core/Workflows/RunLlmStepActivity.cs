using Microsoft.DurableTask;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Orchestrator.Core.Llm;
using Orchestrator.Core.Persistence;
using Orchestrator.Core.Resilience;

namespace Orchestrator.Core.Workflows;

/// <summary>
/// Runs one LLM step and records it, in one activity. Activities run at least once, so it first claims the step:
/// a result that already exists (an earlier attempt, or a step reused by a retry run) is returned without a call.
/// While PostgreSQL is unavailable every database call waits with back-off, and a reply already paid for is kept in
/// <see cref="PaidResults"/> until it is recorded: an outage delays a step, it does not buy it twice.
/// </summary>
public sealed class RunLlmStepActivity(
    WorkflowStore store, LlmGateway llm, IOptions<LlmOptions> options, TimeProvider time, ILogger<RunLlmStepActivity> logger,
    DatabaseRetry database, PaidResults paid, Metrics.OrchestratorMetrics? metrics = null)
    : TaskActivity<LlmStepRequest, StepResult>
{
    public override Task<StepResult> RunAsync(TaskActivityContext context, LlmStepRequest input) => ExecuteAsync(input, CancellationToken.None);

    public async Task<StepResult> ExecuteAsync(LlmStepRequest input, CancellationToken cancellationToken)
    {
        using var scope = StepDiagnostics.Step(logger, input.RunId, input.StepId, input.Iteration);
        var claim = await database.ExecuteAsync(
            "claiming a step", token => store.ClaimStepAsync(input.RunId, input.StepId, input.Iteration, Definitions.StepTypes.Llm, token, input.RestoreEpoch), cancellationToken);
        switch (claim.Kind)
        {
            case StepClaimKind.AlreadyCompleted:
                var done = claim.Completed!;
                Log.StepReused(logger, input.RunId, input.StepId, input.Iteration, done.ReusedFrom ?? input.RunId);
                return new StepResult(done.Output ?? string.Empty, done.TokensIn, done.TokensOut, done.CostUsd, done.Provider, Reused: true, done.ReusedFrom);
            case StepClaimKind.RunFinished:
                throw new RunNotActiveException($"run {input.RunId} is {claim.RunStatus ?? "unknown"}; step '{input.StepId}' was not started");
        }

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
                completion = await CallAsync(input, cancellationToken);
            }
            catch (Exception ex) when (ex is LlmRequestRejectedException or LlmUnavailableException or StructuredOutputException)
            {
                var failedAfter = (int)time.GetElapsedTime(started).TotalMilliseconds;
                await RecordFailureAsync(input, ex, failedAfter, cancellationToken);
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

    /// <summary>
    /// Records a failed attempt. When the database stays away the failure itself still reaches the orchestration
    /// (the step's error is what matters); the record is then missing that one failed attempt.
    /// </summary>
    private async Task RecordFailureAsync(LlmStepRequest input, Exception failure, int failedAfter, CancellationToken cancellationToken)
    {
        var spent = (failure as StructuredOutputException)?.Spent;
        try
        {
            await database.ExecuteAsync(
                "recording a failed step",
                token => store.FailStepAsync(input.RunId, input.StepId, input.Iteration, failure.Message, spent?.Provider ?? llm.Provider, failedAfter, spent, token),
                cancellationToken);
        }
        catch (DependencyUnavailableException ex)
        {
            Log.StepFailureNotRecorded(logger, input.RunId, input.StepId, input.Iteration, ex.Message);
        }
    }

    /// <summary>One call, or — with an output schema — calls until the reply validates or the repairs run out.</summary>
    private async Task<LlmCompletion> CallAsync(LlmStepRequest input, CancellationToken cancellationToken)
    {
        var request = new LlmRequest(input.Prompt, input.System, input.Model, input.MaxTokens, input.Temperature) { JsonSchema = input.OutputSchemaJson, Provider = input.Provider, Route = input.Route };
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
