using System.Text.Json;
using System.Text.Json.Nodes;
using Orchestrator.Core.Tests.Fakes;
using Orchestrator.Core.Workflows;

namespace Orchestrator.Core.Tests.Workflows;

/// <summary>The language's step types over a mocked orchestration context.</summary>
public sealed class WorkflowInterpreterTests
{
    [Fact]
    public async Task A_map_with_a_list_of_steps_runs_them_in_order_per_item_and_each_sees_its_item_and_earlier_sibling()
    {
        var context = new OrchestrationContextFake();
        var definition = """
            { "name": "m", "steps": [
                { "id": "intro", "type": "llm", "prompt": "intro" },
                { "id": "each", "type": "map", "items": "input.xs", "maxParallel": 2, "steps": [
                    { "id": "draft", "type": "llm", "prompt": "draft {{ item.name }} #{{ index }} after {{ steps.intro.output }}" },
                    { "id": "polish", "type": "llm", "prompt": "polish {{ steps.draft.output }} for {{ item.name }}" } ] } ] }
            """;

        var result = await new WorkflowOrchestrator().RunAsync(context.Object, new WorkflowRunInput("run-1", definition, """{"xs":[{"name":"a"},{"name":"b"},{"name":"c"}]}""", null));

        var requests = context.StepRequests.ToList();
        Assert.Equal(3, requests.Count(r => r.StepId == "each.draft"));
        Assert.Contains(requests, r => r.StepId == "each.draft" && r.Iteration == 1 && r.Prompt == "draft b #1 after out(intro)");
        Assert.Contains(requests, r => r.StepId == "each.polish" && r.Iteration == 2 && r.Prompt == "polish out(each.draft) for c");
        foreach (var index in new[] { 0, 1, 2 })
        {
            var order = requests.FindIndex(r => r.StepId == "each.draft" && r.Iteration == index);
            Assert.True(order < requests.FindIndex(r => r.StepId == "each.polish" && r.Iteration == index));
        }

        Assert.Equal("""["out(each.polish)","out(each.polish)","out(each.polish)"]""", result.OutputJson);
    }

    [Fact]
    public async Task A_cost_budget_fails_the_run_before_the_call_that_would_start_over_it()
    {
        var context = new OrchestrationContextFake
        {
            StepAnswer = request => Task.FromResult(new StepResult("ok", 1, 1, 0.5m, "fake", Reused: false)),
        };
        var definition = """
            { "name": "b", "budget": { "maxCostUsd": 1.0 }, "steps": [
                { "id": "a", "type": "llm", "prompt": "a" }, { "id": "b", "type": "llm", "prompt": "b" }, { "id": "c", "type": "llm", "prompt": "c" } ] }
            """;

        var error = await Assert.ThrowsAsync<WorkflowFailedException>(() =>
            new WorkflowOrchestrator().RunAsync(context.Object, new WorkflowRunInput("run-1", definition, "{}", null)));

        Assert.Equal(["a", "b"], context.StepRequests.Select(r => r.StepId));
        Assert.Contains("step 'c' failed: budget exhausted before the call: $1 of $1.0 spent", error.Message);
        Assert.Equal(RunStatus.Failed, context.Finish!.Status);
    }

    [Fact]
    public async Task Results_a_retry_run_reuses_from_an_earlier_run_do_not_count_against_its_budget()
    {
        var context = new OrchestrationContextFake
        {
            StepAnswer = request => Task.FromResult(request.StepId == "a"
                ? new StepResult("old", 1000, 1000, 9m, "fake", Reused: true, ReusedFrom: "run-0")
                : new StepResult("new", 1, 1, 0m, "fake", Reused: false)),
        };
        var definition = """
            { "name": "b", "budget": { "maxTokens": 100, "maxCostUsd": 1 }, "steps": [
                { "id": "a", "type": "llm", "prompt": "a" }, { "id": "b", "type": "llm", "prompt": "{{ steps.a.output }}" } ] }
            """;

        var result = await new WorkflowOrchestrator().RunAsync(context.Object, new WorkflowRunInput("run-1", definition, "{}", "run-0"));

        Assert.Equal(RunStatus.Completed, result.Status);
        Assert.Equal("old", context.StepRequests.Last().Prompt);
    }

    [Fact]
    public async Task Skipped_steps_are_recorded_and_exposed_with_their_status()
    {
        var context = new OrchestrationContextFake();
        var definition = """
            { "name": "w", "steps": [
                { "id": "maybe", "type": "llm", "when": "input.go == true", "prompt": "x" },
                { "id": "say", "type": "transform", "template": "{{ steps.maybe.status }}/{{ steps.maybe.output | default: 'none' }}" } ] }
            """;

        var result = await new WorkflowOrchestrator().RunAsync(context.Object, new WorkflowRunInput("run-1", definition, """{"go":false}""", null));

        Assert.Empty(context.StepRequests);
        var records = context.Calls.Where(c => c.Name == WorkflowTaskNames.RecordStep).Select(c => (RecordStepRequest)c.Input!).ToList();
        Assert.Equal(("maybe", "Skipped"), (records[0].StepId, records[0].Status));
        Assert.Equal("\"Skipped/none\"", result.OutputJson);
    }

    [Fact]
    public async Task An_approval_that_is_not_an_explicit_yes_is_a_rejection_and_with_continue_the_run_goes_on()
    {
        var context = new OrchestrationContextFake { EventAnswer = _ => JsonSerializer.SerializeToElement(new { comment = "maybe" }) };
        var definition = """
            { "name": "w", "steps": [
                { "id": "ask", "type": "approval", "timeout": "1h", "onReject": "continue" },
                { "id": "after", "type": "transform", "value": { "decision": "{{ steps.ask.output }}" } } ] }
            """;

        var result = await new WorkflowOrchestrator().RunAsync(context.Object, new WorkflowRunInput("run-1", definition, "{}", null));

        Assert.Equal("maybe", JsonNode.Parse(result.OutputJson!)!["decision"]!["comment"]!.GetValue<string>());
        var records = context.Calls.Where(c => c.Name == WorkflowTaskNames.RecordStep).Select(c => (RecordStepRequest)c.Input!).ToList();
        Assert.Equal(("ask", "Waiting", "ask"), (records[0].StepId, records[0].Status, records[0].WaitEvent));
        Assert.Equal(new DateTime(2026, 1, 1, 1, 0, 0, DateTimeKind.Utc), records[0].WaitUntil);
        Assert.Contains(context.Calls, c => c.Name == "event:ask");
    }

    [Fact]
    public async Task An_approval_that_times_out_with_a_default_value_continues_and_templates_see_it_as_timed_out()
    {
        var context = new OrchestrationContextFake { TimersFire = true };
        var definition = """
            { "name": "w", "steps": [
                { "id": "ask", "type": "approval", "timeout": "1h", "onTimeout": { "approved": true, "comment": "auto" } },
                { "id": "after", "type": "transform", "template": "{{ steps.ask.status }}: {{ steps.ask.output.comment }}" } ] }
            """;

        var result = await new WorkflowOrchestrator().RunAsync(context.Object, new WorkflowRunInput("run-1", definition, "{}", null));

        Assert.Equal("\"TimedOut: auto\"", result.OutputJson);
        var records = context.Calls.Where(c => c.Name == WorkflowTaskNames.RecordStep).Select(c => (RecordStepRequest)c.Input!).ToList();
        Assert.Equal(StepStatus.TimedOut, records.Single(r => r.StepId == "ask" && r.Status != StepStatus.Waiting).Status);
    }
}
