using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.DurableTask;
using Orchestrator.Core.Definitions;
using Orchestrator.Core.Templates;

namespace Orchestrator.Core.Workflows;

/// <summary>
/// Runs one definition inside an orchestration: conditions, LLM calls, transforms, approvals and maps, with step
/// timeouts, the workflow timeout and the budget. Holds the run's state (outputs, tokens and cost spent so far).
/// Only orchestration-safe operations are used: activities, durable timers, external events, the context's clock.
/// </summary>
internal sealed class WorkflowInterpreter(TaskOrchestrationContext context, WorkflowDefinition definition, WorkflowRunInput input)
{
    private static readonly RetryDefinition DefaultRetry = new();
    private readonly JsonNode? runInput = JsonNode.Parse(input.InputJson);
    private readonly JsonObject steps = [];
    private readonly OutagePolicy outage = input.Outage ?? OutagePolicy.Default;
    private JsonNode? lastOutput;
    private long tokensUsed;
    private decimal costUsed;

    public async Task<WorkflowRunResult> RunAsync()
    {
        try
        {
            await WithDeadlineAsync(RunStepsAsync(), definition.Timeout, "the workflow");
            var output = definition.Output is null
                ? lastOutput?.DeepClone()
                : Render(() => OutputTemplates.Render(definition.Output, Model(Scope.TopLevel)), "(output)");
            var outputJson = output?.ToJsonString() ?? "null";
            await FinishAsync(new FinishRunRequest(input.RunId, RunStatus.Completed, outputJson, null, input.RestoreEpoch));
            return new WorkflowRunResult(input.RunId, RunStatus.Completed, outputJson);
        }
        catch (StepFailedException ex)
        {
            await FinishAsync(new FinishRunRequest(input.RunId, RunStatus.Failed, null, ex.Message, input.RestoreEpoch));
            throw new WorkflowFailedException(ex.Message);
        }
        catch (Exception ex) when (ex is not WorkflowFailedException)
        {
            // A defect must not leave the run 'Running' in Postgres forever: record it, then fail the orchestration.
            var reason = $"internal error: {ex.GetType().Name}: {ex.Message}";
            await FinishAsync(new FinishRunRequest(input.RunId, RunStatus.Failed, null, reason, input.RestoreEpoch));
            throw;
        }
    }

    private Task FinishAsync(FinishRunRequest request) =>
        context.CallActivityAsync(WorkflowTaskNames.FinishRun, request, OutageRetries.ForRecording(outage));

    private async Task RunStepsAsync()
    {
        foreach (var step in definition.Steps)
        {
            var output = await RunStepAsync(step, Scope.TopLevel);
            if (output.Ran)
            {
                lastOutput = output.Value;
            }
        }
    }

    /// <summary>Runs one step (top level or inside a map item) and publishes its output to <paramref name="scope"/>.</summary>
    private async Task<StepOutput> RunStepAsync(StepDefinition step, Scope scope)
    {
        var recordId = scope.RecordId(step);
        if (step.When is not null && !Render(() => TemplateEngine.EvaluateCondition(step.When, Model(scope)), recordId))
        {
            await RecordAsync(recordId, scope.Iteration, step.Type, StepStatus.Skipped, null, null);
            scope.Publish(steps, step.Id, null, StepStatus.Skipped);
            return StepOutput.Skipped;
        }

        var work = step switch
        {
            LlmStepDefinition llm => Completed(RunLlmAsync(llm, scope)),
            TransformStepDefinition transform => Completed(RunTransformAsync(transform, scope)),
            ApprovalStepDefinition approval => RunApprovalAsync(approval, scope),
            MapStepDefinition map => Completed(RunMapAsync(map)),
            _ => throw new StepFailedException(recordId, $"step type '{step.Type}' is not supported by this version"),
        };
        // An approval's timeout is its wait (with its own onTimeout policy); a map's covers all its items.
        var timeout = step switch
        {
            ApprovalStepDefinition => null,
            MapStepDefinition => step.Timeout,
            _ => step.Timeout ?? definition.Defaults?.Timeout,
        };
        var (value, status) = await WithDeadlineAsync(work, timeout, $"step '{recordId}'");
        scope.Publish(steps, step.Id, value, status);
        return new StepOutput(true, value);
    }

    private static async Task<StepValue> Completed(Task<JsonNode?> work) => new(await work, StepStatus.Completed);

    private async Task<JsonNode?> RunLlmAsync(LlmStepDefinition llm, Scope scope)
    {
        var recordId = scope.RecordId(llm);
        var maxTokens = llm.MaxTokens ?? definition.Defaults?.MaxTokens;
        CheckBudget(recordId, maxTokens);
        var model = Model(scope);
        var request = new LlmStepRequest(
            input.RunId,
            recordId,
            scope.Iteration,
            Render(() => TemplateEngine.Render(llm.Prompt, model), recordId),
            llm.System is null ? null : Render(() => TemplateEngine.Render(llm.System, model), recordId),
            llm.Model ?? definition.Defaults?.Model,
            maxTokens,
            llm.Temperature ?? definition.Defaults?.Temperature,
            llm.Output?.Schema.ToJsonString(),
            llm.Output?.MaxRepairs,
            null,
            input.RestoreEpoch,
            definition.Budget?.MaxTokens,
            definition.Budget?.MaxCostUsd,
            (llm.Provider ?? definition.Defaults?.Provider)?.Choices);

        StepResult result;
        try
        {
            result = await context.CallActivityAsync<StepResult>(WorkflowTaskNames.RunLlmStep, request, RetryOptions(llm));
        }
        catch (TaskFailedException ex)
        {
            throw new StepFailedException(recordId, ex.FailureDetails.ErrorMessage);
        }

        if (result.ReusedFrom is null)
        {
            tokensUsed += result.TokensIn + result.TokensOut;
            costUsed += result.CostUsd;
        }

        return llm.Output is null ? JsonValue.Create(result.Output) : JsonNode.Parse(result.Output);
    }

    private async Task<JsonNode?> RunTransformAsync(TransformStepDefinition transform, Scope scope)
    {
        var recordId = scope.RecordId(transform);
        var model = Model(scope);
        var value = transform.Template is not null
            ? JsonValue.Create(Render(() => TemplateEngine.Render(transform.Template, model), recordId))
            : Render(() => OutputTemplates.Render(transform.Value, model), recordId);
        var recorded = await RecordAsync(recordId, scope.Iteration, StepTypes.Transform, StepStatus.Completed, value?.ToJsonString() ?? "null", null);
        return recorded.AlreadyFinished ? Parse(recorded.OutputJson) : value;
    }

    /// <summary>Waits for the decision; the status is Completed, or TimedOut when <c>onTimeout</c> supplied the value.</summary>
    private async Task<StepValue> RunApprovalAsync(ApprovalStepDefinition approval, Scope scope)
    {
        var recordId = scope.RecordId(approval);
        var timeout = Duration(approval.Timeout!, recordId);
        var deadline = context.CurrentUtcDateTime + timeout;
        var message = approval.Message is null ? null : Render(() => TemplateEngine.Render(approval.Message, Model(scope)), recordId);
        var waiting = await RecordAsync(recordId, scope.Iteration, StepTypes.Approval, StepStatus.Waiting,
            new JsonObject { ["message"] = message }.ToJsonString(), null, approval.EventName, deadline);
        if (waiting.AlreadyFinished)
        {
            // Decided in an earlier run that this one retries: the decision stands.
            return new StepValue(Parse(waiting.OutputJson), waiting.Status);
        }

        context.SetCustomStatus(new { waitingFor = new { step = recordId, @event = approval.EventName, message, timeoutAt = deadline } });
        JsonElement decision;
        try
        {
            decision = await context.WaitForExternalEvent<JsonElement>(approval.EventName, timeout);
        }
        catch (TaskCanceledException)
        {
            context.SetCustomStatus(null);
            return await TimedOutAsync(approval, recordId, scope);
        }

        context.SetCustomStatus(null);
        var decisionNode = JsonNode.Parse(decision.ValueKind == JsonValueKind.Undefined ? "null" : decision.GetRawText());
        // Only an explicit "approved": true approves; anything else (also through the raw Durable event API) does not.
        var rejected = !(decisionNode is JsonObject obj && obj["approved"] is JsonValue approved && approved.GetValueKind() == JsonValueKind.True);
        if (rejected && approval.OnReject != "continue")
        {
            var comment = decisionNode?["comment"] is JsonValue c && c.GetValueKind() == JsonValueKind.String ? $": {c.GetValue<string>()}" : string.Empty;
            var reason = $"rejected by the approver{comment}";
            await RecordAsync(recordId, scope.Iteration, StepTypes.Approval, StepStatus.Failed, decisionNode?.ToJsonString(), reason);
            throw new StepFailedException(recordId, reason);
        }

        await RecordAsync(recordId, scope.Iteration, StepTypes.Approval, StepStatus.Completed, decisionNode?.ToJsonString() ?? "null", null);
        return new StepValue(decisionNode, StepStatus.Completed);
    }

    private async Task<StepValue> TimedOutAsync(ApprovalStepDefinition approval, string recordId, Scope scope)
    {
        var policy = approval.OnTimeout;
        var reason = $"no '{approval.EventName}' event within {approval.Timeout}";
        if (policy is null || (policy is JsonValue v && v.GetValueKind() == JsonValueKind.String && v.GetValue<string>() == "fail"))
        {
            await RecordAsync(recordId, scope.Iteration, StepTypes.Approval, StepStatus.Failed, null, reason);
            throw new StepFailedException(recordId, reason);
        }

        var value = policy is JsonValue s && s.GetValueKind() == JsonValueKind.String && s.GetValue<string>() == "continue" ? null : policy.DeepClone();
        await RecordAsync(recordId, scope.Iteration, StepTypes.Approval, StepStatus.TimedOut, value?.ToJsonString() ?? "null", reason);
        return new StepValue(value, StepStatus.TimedOut);
    }

    private async Task<JsonNode?> RunMapAsync(MapStepDefinition map)
    {
        var items = Render(() => TemplateEngine.EvaluateValue(map.Items, Model(Scope.TopLevel)), map.Id) as JsonArray
            ?? throw new StepFailedException(map.Id, $"items '{map.Items}' did not evaluate to a list");

        var outcomes = new ItemOutcome?[items.Count];
        var running = new List<Task<ItemOutcome>>();
        var next = 0;
        var stop = false;
        while (running.Count > 0 || (next < items.Count && !stop))
        {
            while (!stop && next < items.Count && running.Count < map.MaxParallel)
            {
                running.Add(RunItemAsync(map, next, items[next]));
                next++;
            }

            var done = await Task.WhenAny(running);
            running.Remove(done);
            var outcome = await done;
            outcomes[outcome.Index] = outcome;
            if (outcome.Error is not null && map.OnItemFailure == MapFailurePolicy.Fail)
            {
                stop = true;
            }
        }

        var failures = outcomes.Where(o => o?.Error is not null).Select(o => o!).ToList();
        if (failures.Count > 0 && map.OnItemFailure == MapFailurePolicy.Fail)
        {
            var first = failures.OrderBy(f => f.Index).First();
            var reason = $"item {first.Index} failed: {first.Error}";
            await RecordAsync(map.Id, 0, StepTypes.Map, StepStatus.Failed, null, reason);
            throw new StepFailedException(map.Id, reason);
        }

        var result = new JsonArray(outcomes.Select(o => o!.Error is null ? o.Value?.DeepClone() : new JsonObject { ["error"] = o.Error }).ToArray());
        var failureList = new JsonArray(failures.Select(f => (JsonNode)new JsonObject { ["index"] = f.Index, ["error"] = f.Error }).ToArray());
        await RecordAsync(map.Id, 0, StepTypes.Map, StepStatus.Completed, result.ToJsonString(),
            failures.Count == 0 ? null : $"{failures.Count} of {items.Count} items failed");
        steps[map.Id] = new JsonObject { ["status"] = StepStatus.Completed, ["failures"] = failureList };
        return result;
    }

    private async Task<ItemOutcome> RunItemAsync(MapStepDefinition map, int index, JsonNode? item)
    {
        var scope = Scope.ForItem(map, index, item);
        JsonNode? value = null;
        try
        {
            foreach (var nested in map.Body)
            {
                var output = await RunStepAsync(nested, scope);
                if (output.Ran)
                {
                    value = output.Value;
                }
            }

            return new ItemOutcome(index, value, null);
        }
        catch (StepFailedException ex)
        {
            return new ItemOutcome(index, null, ex.Message);
        }
    }

    /// <summary>Races <paramref name="work"/> against a durable timer when a timeout is set.</summary>
    private async Task<T> WithDeadlineAsync<T>(Task<T> work, string? timeout, string what)
    {
        if (timeout is null)
        {
            return await work;
        }

        using var cancel = new CancellationTokenSource();
        var timer = context.CreateTimer(context.CurrentUtcDateTime + Duration(timeout, what), cancel.Token);
        if (await Task.WhenAny(work, timer) == timer)
        {
            throw new StepFailedException(what.StartsWith("step '", StringComparison.Ordinal) ? what[6..^1] : "(workflow)", $"{what} did not finish within {timeout}");
        }

        // Cancel synchronously: CancelAsync would resume this method on a thread-pool thread, outside the
        // orchestration's single-threaded scheduler, and the next durable call would be lost.
#pragma warning disable CA1849
        cancel.Cancel();
#pragma warning restore CA1849
        return await work;
    }

    private async Task WithDeadlineAsync(Task work, string? timeout, string what) =>
        await WithDeadlineAsync(Completion(work), timeout, what);

    private static async Task<bool> Completion(Task work)
    {
        await work;
        return true;
    }

    private void CheckBudget(string recordId, int? maxTokens)
    {
        var budget = definition.Budget;
        if (budget?.MaxTokens is { } limit && (tokensUsed >= limit || tokensUsed + (maxTokens ?? 0) > limit))
        {
            var more = maxTokens is { } m ? FormattableString.Invariant($", and this step may use up to {m} more") : string.Empty;
            throw new StepFailedException(recordId, FormattableString.Invariant($"budget exhausted before the call: {tokensUsed} of {limit} tokens used{more}"));
        }

        if (budget?.MaxCostUsd is { } maxCost && costUsed >= maxCost)
        {
            throw new StepFailedException(recordId, FormattableString.Invariant($"budget exhausted before the call: ${costUsed:0.######} of ${maxCost} spent"));
        }
    }

    private Task<RecordStepResult> RecordAsync(string stepId, int iteration, string type, string status, string? outputJson, string? error, string? waitEvent = null, DateTime? waitUntil = null) =>
        context.CallActivityAsync<RecordStepResult>(
            WorkflowTaskNames.RecordStep,
            new RecordStepRequest(input.RunId, stepId, iteration, type, status, outputJson, error, waitEvent, waitUntil, input.RestoreEpoch),
            OutageRetries.ForRecording(outage));

    private TaskOptions RetryOptions(StepDefinition step)
    {
        var retry = step.Retry ?? definition.Defaults?.Retry ?? DefaultRetry;
        var first = Duration(retry.FirstInterval, step.Id);
        var max = TimeSpan.FromTicks(Math.Max(first.Ticks, Duration(retry.MaxInterval, step.Id).Ticks));
        return OutageRetries.ForStep(retry.MaxAttempts, first, retry.Backoff, max, outage);
    }

    private TemplateModel Model(Scope scope)
    {
        var variables = new Dictionary<string, JsonNode?>(StringComparer.Ordinal)
        {
            ["input"] = runInput,
            ["steps"] = scope.Steps(steps),
            ["run"] = new JsonObject { ["id"] = input.RunId },
        };
        if (scope.Map is not null)
        {
            variables["item"] = scope.Item;
            variables["index"] = scope.Iteration;
        }

        return new TemplateModel(variables, new DateTimeOffset(DateTime.SpecifyKind(context.CurrentUtcDateTime, DateTimeKind.Utc)));
    }

    private static T Render<T>(Func<T> render, string stepId)
    {
        try
        {
            return render();
        }
        catch (TemplateException ex)
        {
            throw new StepFailedException(stepId, ex.Message);
        }
        catch (JsonException ex)
        {
            throw new StepFailedException(stepId, $"template produced invalid JSON: {ex.Message}");
        }
        catch (Exception ex) when (ex is not StepFailedException and not OperationCanceledException)
        {
            // Anything else a template can raise (an unknown filter, a bad argument) fails the step, never the orchestration.
            throw new StepFailedException(stepId, $"template failed: {ex.Message}");
        }
    }

    private static TimeSpan Duration(string text, string stepId) =>
        Durations.TryParse(text, out var value) ? value : throw new StepFailedException(stepId, $"'{text}' is not a positive duration");

    private static JsonNode? Parse(string? json) => json is null ? null : JsonNode.Parse(json);

    private sealed record StepOutput(bool Ran, JsonNode? Value)
    {
        public static readonly StepOutput Skipped = new(false, null);
    }

    /// <summary>A step's output and the status templates see it with.</summary>
    private sealed record StepValue(JsonNode? Value, string Status);

    private sealed record ItemOutcome(int Index, JsonNode? Value, string? Error);

    /// <summary>Where a step runs: at the top level, or inside one map item (with its own sibling outputs).</summary>
    private sealed class Scope
    {
        public static readonly Scope TopLevel = new(null, 0, null);
        private readonly JsonObject siblings = [];

        private Scope(MapStepDefinition? map, int iteration, JsonNode? item)
        {
            Map = map;
            Iteration = iteration;
            Item = item;
        }

        public MapStepDefinition? Map { get; }

        public int Iteration { get; }

        public JsonNode? Item { get; }

        public static Scope ForItem(MapStepDefinition map, int index, JsonNode? item) => new(map, index, item?.DeepClone());

        public string RecordId(StepDefinition step) => Map is null ? step.Id : Map.RecordId(step);

        public JsonObject Steps(JsonObject topLevel)
        {
            if (Map is null)
            {
                return topLevel;
            }

            var visible = (JsonObject)topLevel.DeepClone();
            foreach (var (id, value) in siblings)
            {
                visible[id] = value?.DeepClone();
            }

            return visible;
        }

        public void Publish(JsonObject topLevel, string id, JsonNode? output, string status)
        {
            var entry = new JsonObject { ["output"] = output?.DeepClone(), ["status"] = status };
            if (Map is null)
            {
                if (topLevel[id] is JsonObject existing && existing["failures"] is { } failures)
                {
                    entry["failures"] = failures.DeepClone();
                }

                topLevel[id] = entry;
            }
            else
            {
                siblings[id] = entry;
            }
        }
    }
}
