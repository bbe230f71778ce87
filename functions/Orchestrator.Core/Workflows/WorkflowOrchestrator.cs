using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.DurableTask;
using Orchestrator.Core.Definitions;
using Orchestrator.Core.Templates;

namespace Orchestrator.Core.Workflows;

/// <summary>
/// Interprets a workflow definition durably: steps run in order, each one a checkpoint. Everything here is
/// deterministic (templates render from orchestration state and the orchestration clock), so replays agree.
/// </summary>
public sealed class WorkflowOrchestrator : TaskOrchestrator<WorkflowRunInput, WorkflowRunResult>
{
    private static readonly RetryDefinition DefaultRetry = new();

    public override async Task<WorkflowRunResult> RunAsync(TaskOrchestrationContext context, WorkflowRunInput input)
    {
        var definition = DefinitionJson.Deserialize(input.DefinitionJson);
        var state = new RunState(input.RunId, JsonNode.Parse(input.InputJson));
        var current = "(start)";
        try
        {
            foreach (var step in definition.Steps)
            {
                current = step.Id;
                await RunStepAsync(context, definition, step, state);
            }

            current = "(output)";
            var output = definition.Output is null
                ? state.LastOutput?.DeepClone()
                : OutputTemplates.Render(definition.Output, state.Model(context.CurrentUtcDateTime));
            var outputJson = output?.ToJsonString() ?? "null";
            await context.CallActivityAsync(WorkflowTaskNames.FinishRun, new FinishRunRequest(input.RunId, RunStatus.Completed, outputJson, null));
            return new WorkflowRunResult(input.RunId, RunStatus.Completed, outputJson);
        }
        catch (TaskFailedException ex)
        {
            var reason = $"step '{current}' failed: {ex.FailureDetails.ErrorMessage}";
            await context.CallActivityAsync(WorkflowTaskNames.FinishRun, new FinishRunRequest(input.RunId, RunStatus.Failed, null, reason));
            throw new WorkflowFailedException(reason);
        }
        catch (TemplateException ex)
        {
            var reason = $"step '{current}' failed: {ex.Message}";
            await context.CallActivityAsync(WorkflowTaskNames.FinishRun, new FinishRunRequest(input.RunId, RunStatus.Failed, null, reason));
            throw new WorkflowFailedException(reason);
        }
    }

    private static async Task RunStepAsync(TaskOrchestrationContext context, WorkflowDefinition definition, StepDefinition step, RunState state)
    {
        switch (step)
        {
            case LlmStepDefinition llm:
                var model = state.Model(context.CurrentUtcDateTime);
                var request = new LlmStepRequest(
                    state.RunId,
                    llm.Id,
                    0,
                    TemplateEngine.Render(llm.Prompt, model),
                    llm.System is null ? null : TemplateEngine.Render(llm.System, model),
                    llm.Model ?? definition.Defaults?.Model,
                    llm.MaxTokens ?? definition.Defaults?.MaxTokens,
                    llm.Temperature ?? definition.Defaults?.Temperature);
                var result = await context.CallActivityAsync<StepResult>(WorkflowTaskNames.RunLlmStep, request, RetryOptions(definition, step));
                state.SetOutput(llm.Id, JsonValue.Create(result.Output));
                break;
            default:
                throw new TemplateException($"step type '{step.Type}' is not supported by this version");
        }
    }

    private static TaskOptions RetryOptions(WorkflowDefinition definition, StepDefinition step)
    {
        var retry = step.Retry ?? definition.Defaults?.Retry ?? DefaultRetry;
        var policy = new RetryPolicy(
            retry.MaxAttempts,
            Durations.Parse(retry.FirstInterval),
            retry.Backoff,
            Durations.Parse(retry.MaxInterval))
        {
            HandleFailure = StepFailures.IsRetryable,
        };
        return TaskOptions.FromRetryPolicy(policy);
    }

    /// <summary>What templates can see: the input, finished steps' outputs and the run id.</summary>
    private sealed class RunState(string runId, JsonNode? input)
    {
        private readonly JsonObject steps = [];

        public string RunId { get; } = runId;

        public JsonNode? LastOutput { get; private set; }

        public void SetOutput(string stepId, JsonNode? output)
        {
            steps[stepId] = new JsonObject { ["output"] = output?.DeepClone(), ["status"] = StepStatus.Completed };
            LastOutput = output;
        }

        public TemplateModel Model(DateTime now) => new(
            new Dictionary<string, JsonNode?>(StringComparer.Ordinal)
            {
                ["input"] = input,
                ["steps"] = steps,
                ["run"] = new JsonObject { ["id"] = RunId },
            },
            new DateTimeOffset(DateTime.SpecifyKind(now, DateTimeKind.Utc)));
    }
}
