using Microsoft.DurableTask;
using Microsoft.Extensions.Logging;
using Orchestrator.Core.Llm;
using Orchestrator.Core.Persistence;

namespace Orchestrator.Core.Workflows;

/// <summary>
/// Runs one LLM step and records it, in one activity. Activities run at least once, so it first claims the step:
/// a result that already exists (an earlier attempt, or a step reused by a retry run) is returned without a call.
/// </summary>
public sealed class RunLlmStepActivity(WorkflowStore store, LlmGateway llm, TimeProvider time, ILogger<RunLlmStepActivity> logger)
    : TaskActivity<LlmStepRequest, StepResult>
{
    public override Task<StepResult> RunAsync(TaskActivityContext context, LlmStepRequest input) => ExecuteAsync(input, CancellationToken.None);

    public async Task<StepResult> ExecuteAsync(LlmStepRequest input, CancellationToken cancellationToken)
    {
        var claim = await store.ClaimStepAsync(input.RunId, input.StepId, input.Iteration, Definitions.StepTypes.Llm, cancellationToken);
        switch (claim.Kind)
        {
            case StepClaimKind.AlreadyCompleted:
                var done = claim.Completed!;
                Log.StepReused(logger, input.RunId, input.StepId, input.Iteration, done.ReusedFrom ?? input.RunId);
                return new StepResult(done.Output ?? string.Empty, done.TokensIn, done.TokensOut, done.CostUsd, done.Provider, Reused: true);
            case StepClaimKind.RunFinished:
                throw new RunNotActiveException($"run {input.RunId} is {claim.RunStatus ?? "unknown"}; step '{input.StepId}' was not started");
        }

        Log.StepStarted(logger, input.RunId, input.StepId, input.Iteration, llm.Provider);
        var started = time.GetTimestamp();
        LlmCompletion completion;
        try
        {
            completion = await llm.CompleteAsync(
                new LlmRequest(input.Prompt, input.System, input.Model, input.MaxTokens, input.Temperature), cancellationToken);
        }
        catch (Exception ex) when (ex is LlmRequestRejectedException or LlmUnavailableException)
        {
            var failedAfter = (int)time.GetElapsedTime(started).TotalMilliseconds;
            await store.FailStepAsync(input.RunId, input.StepId, input.Iteration, ex.Message, llm.Provider, failedAfter, CancellationToken.None);
            Log.StepFailed(logger, input.RunId, input.StepId, input.Iteration, ex.Message);
            throw;
        }

        var latency = (int)time.GetElapsedTime(started).TotalMilliseconds;
        await store.CompleteStepAsync(
            new StepCompletion(input.RunId, input.StepId, input.Iteration, StepStatus.Completed, completion.Text,
                completion.InputTokens, completion.OutputTokens, completion.CostUsd, completion.Provider, completion.Model, latency),
            CancellationToken.None);
        Log.StepCompleted(logger, input.RunId, input.StepId, input.Iteration, latency);
        return new StepResult(completion.Text, completion.InputTokens, completion.OutputTokens, completion.CostUsd, completion.Provider, Reused: false);
    }
}
