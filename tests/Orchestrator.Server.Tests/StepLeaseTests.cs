using System.Text.Json.Nodes;
using Orchestrator.Server.Tests.Infrastructure;

namespace Orchestrator.Server.Tests;

/// <summary>
/// A paid LLM call is made once: a call held open far past the task hub queue's visibility timeout (the queue hands
/// the activity out again) is still asked of the provider once, and a budget is reserved before each call, so a map's
/// parallel items cannot overshoot it.
/// </summary>
[Collection(EndToEnd.Name)]
public sealed class StepLeaseTests(ShortVisibilityFixture fixture) : IClassFixture<ShortVisibilityFixture>
{
    private static readonly TimeSpan Visibility = ShortVisibilityFixture.VisibilityTimeout;

    [Fact]
    public async Task A_call_held_open_for_three_visibility_timeouts_is_asked_of_the_provider_once_and_the_run_completes()
    {
        var tag = Definitions.Tag();
        var gate = fixture.Llm.Hold($"STEP1-{tag}");
        var id = await fixture.Api.StartAsync(Definitions.Chain(tag, 2), new JsonObject { ["text"] = "a slow provider" });
        await fixture.Llm.WaitForAsync($"STEP1-{tag}");

        await Task.Delay(Visibility * 3);
        gate.SetResult();
        var run = await fixture.Api.WaitForStatusAsync(id, "Completed");

        Assert.Equal(1, fixture.Llm.CountContaining($"STEP1-{tag}"));
        Assert.Equal(1, fixture.Llm.CountContaining($"STEP2-{tag}"));
        Assert.Equal(2, run["progress"]!["completed"]!.GetValue<int>());
        Assert.Equal(1L, await fixture.ScalarAsync("SELECT count(*) FROM workflow_steps WHERE run_id = @id AND step_id = 's1' AND status = 'Completed'", ("id", id)));
        Assert.Equal(0L, await fixture.ScalarAsync("SELECT count(*) FROM workflow_steps WHERE run_id = @id AND lease_holder IS NOT NULL", ("id", id)));
    }

    [Fact]
    public async Task A_map_of_50_parallel_items_under_a_budget_for_10_calls_makes_at_most_10()
    {
        var tag = Definitions.Tag();
        fixture.Llm.SpendMaximum($"BUDGET-{tag}");
        // Each item's prompt is "BUDGET-<8-char tag> iNN": 19 characters, so the gateway reserves ceil(19 / 4) = 5
        // input tokens plus its maxTokens of 20; the fake spends exactly that. 250 tokens fit 10 calls.
        const int perCall = 5 + 20;
        var definition = JsonNode.Parse($$$"""
            {
              "name": "budgeted-map",
              "budget": { "maxTokens": {{{perCall * 10}}} },
              "input": { "type": "object", "required": ["items"], "properties": { "items": { "type": "array" } } },
              "steps": [
                { "id": "each", "type": "map", "items": "input.items", "maxParallel": 50, "onItemFailure": "continue",
                  "step": { "type": "llm", "prompt": "BUDGET-{{{tag}}} {{ item }}", "maxTokens": 20 } }
              ]
            }
            """)!;
        var items = new JsonArray(Enumerable.Range(0, 50).Select(i => (JsonNode)JsonValue.Create($"i{i:00}")).ToArray());

        var run = await fixture.Api.WaitForStatusAsync(await fixture.Api.StartAsync(definition, new JsonObject { ["items"] = items }), "Completed", TimeSpan.FromMinutes(3));

        var calls = fixture.Llm.CountContaining($"BUDGET-{tag}");
        Assert.InRange(calls, 1, 10);
        var output = run["output"]!.AsArray();
        Assert.Equal(calls, output.Count(o => o is JsonValue));
        var refused = output.Where(o => o is JsonObject).Select(o => o!["error"]!.GetValue<string>()).ToList();
        Assert.Equal(50 - calls, refused.Count);
        Assert.All(refused, e => Assert.Contains("budget exhausted before the call", e, StringComparison.Ordinal));
        var map = run["steps"]!.AsArray().Single(s => s!["id"]!.GetValue<string>() == "each")!;
        Assert.Equal($"{50 - calls} of 50 items failed", map["error"]!.GetValue<string>());
        Assert.True(run["tokens"]!["input"]!.GetValue<long>() + run["tokens"]!["output"]!.GetValue<long>() <= perCall * 10, run["tokens"]!.ToJsonString());
    }
}
