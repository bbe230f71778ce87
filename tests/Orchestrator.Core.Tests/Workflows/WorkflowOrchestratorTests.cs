using System.Text.Json.Nodes;
using Microsoft.DurableTask;
using Orchestrator.Core.Llm;
using Orchestrator.Core.Tests.Fakes;
using Orchestrator.Core.Workflows;

namespace Orchestrator.Core.Tests.Workflows;

public sealed class WorkflowOrchestratorTests
{
    private const string ThreeSteps = """
        {
          "name": "three", "version": 2,
          "steps": [
            { "id": "a", "type": "llm", "prompt": "Summarize {{ input.text }} for {{ run.id }}", "model": "m-a", "maxTokens": 50 },
            { "id": "b", "type": "llm", "prompt": "Classify {{ steps.a.output }}", "system": "Be terse about {{ input.text }}" },
            { "id": "c", "type": "llm", "prompt": "Title for {{ steps.b.output }} and {{ steps.a.output }}" }
          ],
          "output": { "title": "{{ steps.c.output }}", "summary": "{{ steps.a.output }}" }
        }
        """;

    [Fact]
    public async Task Steps_run_in_order_and_each_prompt_is_rendered_from_earlier_outputs()
    {
        var context = new OrchestrationContextFake();

        var result = await new WorkflowOrchestrator().RunAsync(context.Object, new WorkflowRunInput("run-1", ThreeSteps, """{"text":"the report"}""", null));

        var requests = context.StepRequests.ToList();
        Assert.Equal(["a", "b", "c"], requests.Select(r => r.StepId));
        Assert.Equal("Summarize the report for run-1", requests[0].Prompt);
        Assert.Equal("m-a", requests[0].Model);
        Assert.Equal(50, requests[0].MaxTokens);
        Assert.Equal("Classify out(a)", requests[1].Prompt);
        Assert.Equal("Be terse about the report", requests[1].System);
        Assert.Equal("Title for out(b) and out(a)", requests[2].Prompt);
        Assert.All(requests, r => Assert.Equal("run-1", r.RunId));

        Assert.Equal(RunStatus.Completed, result.Status);
        var output = JsonNode.Parse(result.OutputJson!)!;
        Assert.Equal("out(c)", output["title"]!.GetValue<string>());
        Assert.Equal("out(a)", output["summary"]!.GetValue<string>());
        Assert.Equal(RunStatus.Completed, context.Finish!.Status);
        Assert.Equal(result.OutputJson, context.Finish.OutputJson);
        Assert.Equal(WorkflowTaskNames.FinishRun, context.Calls[^1].Name);
    }

    [Fact]
    public async Task Without_an_output_template_the_last_step_output_is_the_run_output()
    {
        var context = new OrchestrationContextFake();
        var definition = """{ "name": "one", "steps": [ { "id": "only", "type": "llm", "prompt": "hi" } ] }""";

        var result = await new WorkflowOrchestrator().RunAsync(context.Object, new WorkflowRunInput("run-1", definition, "{}", null));

        Assert.Equal("\"out(only)\"", result.OutputJson);
    }

    [Fact]
    public async Task A_failed_step_records_the_run_as_failed_and_fails_the_orchestration_without_running_later_steps()
    {
        var context = new OrchestrationContextFake
        {
            StepAnswer = request => request.StepId == "b"
                ? throw new TaskFailedException(WorkflowTaskNames.RunLlmStep, 2, new TaskFailureDetails(typeof(LlmRequestRejectedException).FullName!, "openai rejected the request (HTTP 400): bad prompt", null, null, null))
                : Task.FromResult(new StepResult("ok", 1, 1, 0m, "fake", false)),
        };

        var error = await Assert.ThrowsAsync<WorkflowFailedException>(() =>
            new WorkflowOrchestrator().RunAsync(context.Object, new WorkflowRunInput("run-1", ThreeSteps, """{"text":"x"}""", null)));

        Assert.Contains("step 'b' failed", error.Message);
        Assert.Contains("bad prompt", error.Message);
        Assert.Equal(["a", "b"], context.StepRequests.Select(r => r.StepId));
        Assert.Equal(RunStatus.Failed, context.Finish!.Status);
        Assert.Contains("bad prompt", context.Finish.Error);
    }

    [Fact]
    public async Task Steps_carry_the_definitions_retry_policy_and_permanent_errors_are_not_retried()
    {
        var context = new OrchestrationContextFake();
        var definition = """
            { "name": "r", "defaults": { "retry": { "maxAttempts": 5, "firstInterval": "3s", "backoff": 1.5, "maxInterval": "20s" } },
              "steps": [ { "id": "a", "type": "llm", "prompt": "x" },
                         { "id": "b", "type": "llm", "prompt": "y", "retry": { "maxAttempts": 2 } } ] }
            """;

        await new WorkflowOrchestrator().RunAsync(context.Object, new WorkflowRunInput("run-1", definition, "{}", null));

        var steps = context.Calls.Where(c => c.Name == WorkflowTaskNames.RunLlmStep).Select(c => c.Options!).ToList();
        // Step a follows the defaults: five attempts, 3 s then ×1.5, at most 20 s apart.
        Assert.Equal((true, TimeSpan.FromSeconds(3)), await RetryAsync(steps[0], 1, typeof(InvalidOperationException)));
        Assert.Equal((true, TimeSpan.FromSeconds(6.75)), await RetryAsync(steps[0], 3, typeof(InvalidOperationException)));
        Assert.Equal((false, (TimeSpan?)null), await RetryAsync(steps[0], 5, typeof(InvalidOperationException)));
        // Step b's own policy replaces the defaults: two attempts, the built-in first interval of 2 s.
        Assert.Equal((true, TimeSpan.FromSeconds(2)), await RetryAsync(steps[1], 1, typeof(InvalidOperationException)));
        Assert.Equal((false, (TimeSpan?)null), await RetryAsync(steps[1], 2, typeof(InvalidOperationException)));
        Assert.Equal((false, (TimeSpan?)null), await RetryAsync(steps[0], 1, typeof(LlmRequestRejectedException)));

        Assert.False(StepFailures.IsRetryable(new TaskFailureDetails(typeof(LlmRequestRejectedException).FullName!, "400", null, null, null)));
        Assert.False(StepFailures.IsRetryable(new TaskFailureDetails(typeof(RunNotActiveException).FullName!, "cancelled", null, null, null)));
        Assert.True(StepFailures.IsRetryable(new TaskFailureDetails(typeof(LlmUnavailableException).FullName!, "503", null, null, null)));
    }

    [Fact]
    public async Task The_run_uses_the_definition_copied_into_its_input_and_renders_the_same_on_replay()
    {
        var first = new OrchestrationContextFake();
        var replay = new OrchestrationContextFake();
        var input = new WorkflowRunInput("run-1", ThreeSteps, """{"text":"same"}""", null);

        await new WorkflowOrchestrator().RunAsync(first.Object, input);
        await new WorkflowOrchestrator().RunAsync(replay.Object, input);

        Assert.Equal(first.StepRequests.Select(r => r.Prompt), replay.StepRequests.Select(r => r.Prompt));
    }

    /// <summary>What a step's retry handler decides after a failed attempt, and the durable pause it takes first.</summary>
    private static async Task<(bool Retried, TimeSpan? After)> RetryAsync(TaskOptions options, int failedAttempt, Type error)
    {
        var timers = new OrchestrationContextFake { TimersFire = true };
        var failure = new TaskFailureDetails(error.FullName!, "failed", null, null, null);
        var retried = await options.Retry!.Handler!(new RetryContext(timers.Object, failedAttempt, failure, TimeSpan.FromSeconds(30), CancellationToken.None));
        return (retried, timers.TimerDelays.Cast<TimeSpan?>().SingleOrDefault());
    }
}
