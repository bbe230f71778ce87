using System.Net;
using System.Text.Json.Nodes;
using Orchestrator.Server.Tests.Infrastructure;

namespace Orchestrator.Server.Tests;

/// <summary>The workflow language end to end: samples, maps, approvals, conditions, structured output, budgets.</summary>
[Collection(EndToEnd.Name)]
public sealed class WorkflowLanguageTests(ServerFixture fixture) : IClassFixture<ServerFixture>
{
    private OrchestratorApi Api => fixture.Api;

    [Fact]
    public async Task Summarize_classify_asks_for_structured_output_and_returns_typed_fields()
    {
        var tag = Definitions.Tag();
        var (status, start, _) = await Api.PostAsync("/api/v1/workflows", new JsonObject
        {
            ["definition"] = "summarize-classify",
            ["input"] = new JsonObject { ["text"] = $"Doc {tag}: checkout returns 500 since the deploy." },
        });
        Assert.Equal(HttpStatusCode.Accepted, status);

        var run = await Api.WaitForStatusAsync(start!["id"]!.GetValue<string>(), "Completed");

        var summary = FakeOpenAiServer.AnswerFor(fixture.Llm.Containing(tag)[0].Prompt);
        var classify = Assert.Single(fixture.Llm.Requests, r => r.Prompt.Contains("Classify this summary", StringComparison.Ordinal) && r.Prompt.Contains(summary, StringComparison.Ordinal));
        Assert.Equal("json_schema", classify.ResponseFormat);
        var output = run["output"]!;
        Assert.Contains(output["category"]!.GetValue<string>(), new[] { "bug", "feature", "question", "incident", "other" });
        Assert.Contains(output["priority"]!.GetValue<string>(), new[] { "low", "medium", "high" });
        var confidence = output["confidence"]!.GetValue<double>();
        Assert.InRange(confidence, 0, 1);
        Assert.StartsWith("answer-", output["summary"]!.GetValue<string>());
    }

    [Fact]
    public async Task Extract_many_fans_out_at_most_four_at_a_time_and_fans_in_in_input_order()
    {
        var tag = Definitions.Tag();
        var documents = new JsonArray();
        for (var i = 0; i < 7; i++)
        {
            var id = $"{tag}-doc{i}";
            documents.Add(new JsonObject { ["id"] = id, ["text"] = $"Invoice {i} from vendor {i}" });
            fixture.Llm.Reply($"document {id} ", TimeSpan.FromMilliseconds(700), $$$"""{"vendor":"vendor-{{{i}}}","amount":{{{i * 10}}},"dueDate":null}""");
        }

        fixture.Llm.ResetConcurrency();
        var id0 = await Api.StartAsync("extract-many", new JsonObject { ["documents"] = documents });
        var run = await Api.WaitForStatusAsync(id0, "Completed");

        Assert.Equal(7, fixture.Llm.CountContaining($"{tag}-doc"));
        Assert.InRange(fixture.Llm.MaxConcurrency, 1, 4);
        var extracted = run["output"]!["documents"]!.AsArray();
        Assert.Equal(Enumerable.Range(0, 7).Select(i => $"vendor-{i}"), extracted.Select(d => d!["vendor"]!.GetValue<string>()));
        Assert.Empty(run["output"]!["failures"]!.AsArray());
        var aggregate = Assert.Single(fixture.Llm.Requests, r => r.Prompt.Contains("vendor-6", StringComparison.Ordinal) && r.Prompt.Contains("Write a short summary", StringComparison.Ordinal));
        Assert.Contains("vendor-0", aggregate.Prompt);
        var items = run["steps"]!.AsArray().Where(s => s!["id"]!.GetValue<string>() == "extract.fields").ToList();
        Assert.Equal(Enumerable.Range(0, 7), items.Select(s => s!["iteration"]!.GetValue<int>()).Order());
    }

    [Fact]
    public async Task A_map_with_a_failing_item_fails_under_fail_and_retry_runs_only_that_item_again()
    {
        var tag = Definitions.Tag();
        fixture.Llm.Fail($"ITEM-1-{tag}", 400, "item one is unreadable");
        var id = await Api.StartAsync(MapDefinition(tag, "fail"), new JsonObject { ["items"] = new JsonArray("a", "b", "c") });

        var failed = await Api.WaitForStatusAsync(id, "Failed");
        Assert.Contains("item 1 failed", failed["error"]!.GetValue<string>());
        Assert.Contains("item one is unreadable", failed["error"]!.GetValue<string>());

        fixture.Llm.Heal($"ITEM-1-{tag}");
        var (status, retry, _) = await Api.PostAsync($"/api/v1/workflows/{id}/retry", null);
        Assert.Equal(HttpStatusCode.Accepted, status);
        var done = await Api.WaitForStatusAsync(retry!["id"]!.GetValue<string>(), "Completed");

        Assert.Equal(1, fixture.Llm.CountContaining($"ITEM-0-{tag}"));
        Assert.Equal(2, fixture.Llm.CountContaining($"ITEM-1-{tag}"));
        Assert.Equal(1, fixture.Llm.CountContaining($"ITEM-2-{tag}"));
        Assert.Equal(3, done["output"]!.AsArray().Count);
    }

    [Fact]
    public async Task A_map_with_a_failing_item_completes_under_continue_and_records_the_failure()
    {
        var tag = Definitions.Tag();
        fixture.Llm.Fail($"ITEM-1-{tag}", 400, "item one is unreadable");
        var id = await Api.StartAsync(MapDefinition(tag, "continue"), new JsonObject { ["items"] = new JsonArray("a", "b", "c") });

        var run = await Api.WaitForStatusAsync(id, "Completed");

        var output = run["output"]!.AsArray();
        Assert.StartsWith("answer-", output[0]!.GetValue<string>());
        Assert.Contains("item one is unreadable", output[1]!["error"]!.GetValue<string>());
        Assert.StartsWith("answer-", output[2]!.GetValue<string>());
        var map = run["steps"]!.AsArray().Single(s => s!["id"]!.GetValue<string>() == "each")!;
        Assert.Equal("Completed", map["status"]!.GetValue<string>());
        Assert.Equal("1 of 3 items failed", map["error"]!.GetValue<string>());
        var after = fixture.Llm.Containing($"AFTER-{tag}");
        Assert.Contains("failures=1", Assert.Single(after).Prompt);
    }

    [Fact]
    public async Task Ticket_triage_waits_for_approval_of_a_high_priority_ticket_and_drafts_the_reply_after_it()
    {
        var tag = Definitions.Tag();
        fixture.Llm.Reply($"Subject: {tag}", """{"priority":"high","category":"outage","reason":"checkout down"}""");
        var id = await Api.StartAsync("ticket-triage", Ticket(tag));

        var waiting = await Api.WaitForWaitingAsync(id);
        Assert.Equal("approve", waiting["waitingFor"]![0]!["event"]!.GetValue<string>());
        Assert.NotNull(waiting["waitingFor"]![0]!["timeoutAt"]);
        Assert.Contains("checkout down", waiting["waitingFor"]![0]!["message"]!.GetValue<string>());
        // PostgreSQL records the wait before the orchestration's episode ends and stores its custom status.
        var instance = await Api.GetAsync($"/runtime/webhooks/durabletask/instances/{id}");
        for (var i = 0; i < 50 && instance.Body?["customStatus"]?["waitingFor"] is null; i++)
        {
            await Task.Delay(200);
            instance = await Api.GetAsync($"/runtime/webhooks/durabletask/instances/{id}");
        }

        Assert.Contains("checkout down", instance.Body!["customStatus"]!["waitingFor"]!["message"]!.GetValue<string>());
        await Task.Delay(1500);
        Assert.Equal(0, fixture.Llm.CountContaining($"about \"{tag}\""));

        var (unknown, problem, _) = await Api.PostAsync($"/api/v1/workflows/{id}/events/aprove", new JsonObject { ["approved"] = true });
        Assert.Equal(HttpStatusCode.BadRequest, unknown);
        Assert.Contains("did you mean approve?", problem!["detail"]!.GetValue<string>());

        var (undecided, notADecision, _) = await Api.PostAsync($"/api/v1/workflows/{id}/events/approve", new JsonObject { ["comment"] = "looks fine" });
        Assert.Equal(HttpStatusCode.BadRequest, undecided);
        Assert.Equal("approved", notADecision!["errors"]![0]!["path"]!.GetValue<string>());

        var (status, _, _) = await Api.PostAsync($"/api/v1/workflows/{id}/events/approve", new JsonObject { ["approved"] = true, ["comment"] = $"offer a refund {tag}" });
        Assert.Equal(HttpStatusCode.Accepted, status);

        var run = await Api.WaitForStatusAsync(id, "Completed");
        var reply = Assert.Single(fixture.Llm.Containing($"about \"{tag}\""));
        Assert.Contains($"offer a refund {tag}", reply.Prompt);
        Assert.True(run["output"]!["approval"]!["approved"]!.GetValue<bool>());
        Assert.Equal("high", run["output"]!["classification"]!["priority"]!.GetValue<string>());
        Assert.Empty(run["waitingFor"]!.AsArray());

        var (late, _, _) = await Api.PostAsync($"/api/v1/workflows/{id}/events/approve", new JsonObject { ["approved"] = true });
        Assert.Equal(HttpStatusCode.Conflict, late);
    }

    [Fact]
    public async Task A_rejected_approval_fails_the_run_and_no_reply_is_drafted()
    {
        var tag = Definitions.Tag();
        fixture.Llm.Reply($"Subject: {tag}", """{"priority":"high","category":"billing","reason":"angry"}""");
        var id = await Api.StartAsync("ticket-triage", Ticket(tag));
        await Api.WaitForWaitingAsync(id);

        await Api.PostAsync($"/api/v1/workflows/{id}/events/approve", new JsonObject { ["approved"] = false, ["comment"] = "escalate to legal" });

        var run = await Api.WaitForStatusAsync(id, "Failed");
        Assert.Contains("rejected by the approver: escalate to legal", run["error"]!.GetValue<string>());
        Assert.Equal(0, fixture.Llm.CountContaining($"about \"{tag}\""));
    }

    [Fact]
    public async Task An_approval_that_times_out_fails_the_run()
    {
        var tag = Definitions.Tag();
        fixture.Llm.Reply($"Subject: {tag}", """{"priority":"high","category":"outage","reason":"down"}""");
        var definition = Samples.Load("ticket-triage");
        definition["steps"]![1]!["timeout"] = "3s";

        var id = await Api.StartAsync(definition, Ticket(tag));

        var run = await Api.WaitForStatusAsync(id, "Failed");
        Assert.Contains("no 'approve' event within 3s", run["error"]!.GetValue<string>());
        Assert.Equal(0, fixture.Llm.CountContaining($"about \"{tag}\""));
    }

    [Fact]
    public async Task An_approval_that_times_out_with_a_default_continues_with_that_value()
    {
        var tag = Definitions.Tag();
        fixture.Llm.Reply($"Subject: {tag}", """{"priority":"high","category":"outage","reason":"down"}""");
        var definition = Samples.Load("ticket-triage");
        definition["steps"]![1]!["timeout"] = "2s";
        definition["steps"]![1]!["onTimeout"] = new JsonObject { ["approved"] = true, ["comment"] = $"auto-approved {tag}" };

        var run = await Api.WaitForStatusAsync(await Api.StartAsync(definition, Ticket(tag)), "Completed");

        Assert.Contains($"auto-approved {tag}", Assert.Single(fixture.Llm.Containing($"about \"{tag}\"")).Prompt);
        var approval = run["steps"]!.AsArray().Single(s => s!["id"]!.GetValue<string>() == "approve")!;
        Assert.Equal("TimedOut", approval["status"]!.GetValue<string>());
    }

    [Fact]
    public async Task A_low_priority_ticket_skips_the_approval()
    {
        var tag = Definitions.Tag();
        fixture.Llm.Reply($"Subject: {tag}", """{"priority":"low","category":"question","reason":"how-to"}""");

        var run = await Api.WaitForStatusAsync(await Api.StartAsync("ticket-triage", Ticket(tag)), "Completed");

        var approval = run["steps"]!.AsArray().Single(s => s!["id"]!.GetValue<string>() == "approve")!;
        Assert.Equal("Skipped", approval["status"]!.GetValue<string>());
        Assert.Single(fixture.Llm.Containing($"about \"{tag}\""));
    }

    [Fact]
    public async Task A_run_that_would_exceed_its_token_budget_fails_before_the_next_paid_call()
    {
        var tag = Definitions.Tag();
        var definition = Definitions.Chain(tag, 3);
        // Each call reserves its estimated input (about four characters a token) plus its maxTokens: step 1 may use
        // 14 + 8 = 22 and spends 11 (the fake counts 8 words + 3), then step 2 may use 13 + 8 = 21, and 11 + 21 > 25.
        definition["budget"] = new JsonObject { ["maxTokens"] = 25 };
        definition["defaults"] = new JsonObject { ["maxTokens"] = 8 };

        var run = await Api.WaitForStatusAsync(await Api.StartAsync(definition, new JsonObject { ["text"] = "one two three four five six" }), "Failed");

        Assert.Contains("step 's2' failed: budget exhausted before the call", run["error"]!.GetValue<string>());
        Assert.Equal(1, fixture.Llm.CountContaining($"STEP1-{tag}"));
        Assert.Equal(0, fixture.Llm.CountContaining($"STEP2-{tag}"));
    }

    [Fact]
    public async Task Invalid_structured_output_is_re_asked_with_the_error_and_then_accepted()
    {
        var tag = Definitions.Tag();
        fixture.Llm.Reply($"JSON-{tag}", "Sure! Here you go: priority is high", """{"priority":"medium"}""", """{"priority":"high"}""");

        var run = await Api.WaitForStatusAsync(await Api.StartAsync(StructuredDefinition(tag, 3), new JsonObject()), "Completed");

        Assert.Equal("high", run["output"]!["priority"]!.GetValue<string>());
        var requests = fixture.Llm.Containing($"JSON-{tag}");
        Assert.Equal(3, requests.Count);
        Assert.Equal(3, requests[1].MessageCount);
        Assert.Contains("not JSON", requests[1].LastMessage);
        Assert.Contains("$.priority", requests[2].LastMessage);
        var step = Assert.Single(run["steps"]!.AsArray())!;
        Assert.True(step["tokens"]!["input"]!.GetValue<int>() > requests[0].Prompt.Split(' ').Length);
    }

    [Fact]
    public async Task Invalid_structured_output_is_re_asked_then_fails_the_step_with_the_validation_error()
    {
        var tag = Definitions.Tag();
        fixture.Llm.Reply($"JSON-{tag}", """{"priority":"urgent"}""");

        var run = await Api.WaitForStatusAsync(await Api.StartAsync(StructuredDefinition(tag, 1), new JsonObject()), "Failed");

        Assert.Equal(2, fixture.Llm.CountContaining($"JSON-{tag}"));
        Assert.Contains("did not match the output schema after 1 repair(s)", run["error"]!.GetValue<string>());
        Assert.Contains("$.priority", run["error"]!.GetValue<string>());
        var step = Assert.Single(run["steps"]!.AsArray())!;
        Assert.True(step["tokens"]!["output"]!.GetValue<int>() == 6, step.ToJsonString());
        Assert.Equal(6, run["tokens"]!["output"]!.GetValue<int>());
    }

    [Fact]
    public async Task Transforms_render_without_an_llm_and_false_conditions_record_skipped_steps()
    {
        var tag = Definitions.Tag();
        var definition = JsonNode.Parse($$$"""
            {
              "name": "transforms",
              "input": { "type": "object", "properties": { "n": { "type": "integer" }, "names": { "type": "array" } } },
              "steps": [
                { "id": "shape", "type": "transform", "value": { "double": "{{ input.n | times: 2 }}", "names": "{{ input.names }}", "first": "{{ input.names | first }}" } },
                { "id": "text", "type": "transform", "template": "{% for n in input.names %}{{ n }};{% endfor %}" },
                { "id": "never", "type": "llm", "when": "input.n > 100", "prompt": "NEVER-{{{tag}}}" }
              ],
              "output": { "shape": "{{ steps.shape.output }}", "text": "{{ steps.text.output }}", "skipped": "{{ steps.never.status }}" }
            }
            """)!;

        var run = await Api.WaitForStatusAsync(await Api.StartAsync(definition, new JsonObject { ["n"] = 21, ["names"] = new JsonArray("ada", "bob") }), "Completed");

        var output = run["output"]!;
        Assert.Equal("42", output["shape"]!["double"]!.ToJsonString().Trim('"'));
        Assert.Equal(["ada", "bob"], output["shape"]!["names"]!.AsArray().Select(n => n!.GetValue<string>()));
        Assert.Equal("ada;bob;", output["text"]!.GetValue<string>());
        Assert.Equal("Skipped", output["skipped"]!.GetValue<string>());
        Assert.Equal(0, fixture.Llm.CountContaining($"NEVER-{tag}"));
        Assert.Equal("Skipped", run["steps"]!.AsArray().Single(s => s!["id"]!.GetValue<string>() == "never")!["status"]!.GetValue<string>());
    }

    [Fact]
    public async Task A_step_that_outlives_its_timeout_fails_the_run_and_a_workflow_timeout_races_the_whole_run()
    {
        var tag = Definitions.Tag();
        fixture.Llm.Delay($"STEP1-{tag}", TimeSpan.FromSeconds(6));
        var stepTimeout = Definitions.Chain(tag, 2);
        stepTimeout["steps"]![0]!["timeout"] = "2s";
        var workflowTimeout = Definitions.Chain(tag, 2);
        workflowTimeout["timeout"] = "2s";

        var first = await Api.WaitForStatusAsync(await Api.StartAsync(stepTimeout, new JsonObject { ["text"] = "slow" }), "Failed");
        var second = await Api.WaitForStatusAsync(await Api.StartAsync(workflowTimeout, new JsonObject { ["text"] = "slow too" }), "Failed");

        Assert.Contains("step 's1' did not finish within 2s", first["error"]!.GetValue<string>());
        Assert.Contains("the workflow did not finish within 2s", second["error"]!.GetValue<string>());
        Assert.Equal(0, fixture.Llm.CountContaining($"STEP2-{tag}"));
    }

    [Fact]
    public async Task Concurrent_starts_with_one_idempotency_key_start_exactly_one_run()
    {
        var tag = Definitions.Tag();
        var body = new JsonObject { ["definition"] = Definitions.Chain(tag, 1), ["input"] = new JsonObject { ["text"] = "once" }, ["idempotencyKey"] = $"key-{tag}" };

        var answers = await Task.WhenAll(Enumerable.Range(0, 8).Select(_ => Api.PostAsync("/api/v1/workflows", body.DeepClone())));

        Assert.Single(answers, a => a.Status == HttpStatusCode.Accepted);
        Assert.All(answers, a => Assert.Contains(a.Status, new[] { HttpStatusCode.Accepted, HttpStatusCode.OK }));
        Assert.Single(answers.Select(a => a.Body!["id"]!.GetValue<string>()).Distinct());
        Assert.Equal(1, await fixture.ScalarAsync("SELECT count(*) FROM workflow_states WHERE idempotency_key = @k", ("k", $"key-{tag}")));
        await Api.WaitForStatusAsync(answers[0].Body!["id"]!.GetValue<string>(), "Completed");
        Assert.Equal(1, fixture.Llm.CountContaining($"STEP1-{tag}"));
    }

    [Fact]
    public async Task The_registry_lists_and_serves_the_samples()
    {
        var (status, list, _) = await Api.GetAsync("/api/v1/definitions");
        Assert.Equal(HttpStatusCode.OK, status);
        var names = list!["definitions"]!.AsArray().Select(d => d!["name"]!.GetValue<string>()).ToList();
        Assert.Equal(["extract-many", "summarize-classify", "ticket-triage"], names);

        var (found, definition, _) = await Api.GetAsync("/api/v1/definitions/ticket-triage@1");
        Assert.Equal(HttpStatusCode.OK, found);
        Assert.Equal("approval", definition!["steps"]![1]!["type"]!.GetValue<string>());

        var (missing, problem, _) = await Api.GetAsync("/api/v1/definitions/ticket-triag");
        Assert.Equal(HttpStatusCode.NotFound, missing);
        Assert.Contains("did you mean ticket-triage?", problem!["detail"]!.GetValue<string>());
    }

    private static JsonObject Ticket(string tag) => new() { ["subject"] = tag, ["body"] = "Checkout is down for everyone.", ["customer"] = "Ada" };

    private static JsonObject MapDefinition(string tag, string policy) => JsonNode.Parse($$$"""
        {
          "name": "map-{{{policy}}}",
          "input": { "type": "object", "required": ["items"], "properties": { "items": { "type": "array" } } },
          "steps": [
            { "id": "each", "type": "map", "items": "input.items", "maxParallel": 2, "onItemFailure": "{{{policy}}}",
              "step": { "type": "llm", "prompt": "ITEM-{{ index }}-{{{tag}}} {{ item }}", "retry": { "maxAttempts": 1 } } },
            { "id": "after", "type": "llm", "prompt": "AFTER-{{{tag}}} failures={{ steps.each.failures.size }}" }
          ],
          "output": "{{ steps.each.output }}"
        }
        """)!.AsObject();

    private static JsonObject StructuredDefinition(string tag, int repairs) => JsonNode.Parse($$$"""
        {
          "name": "structured",
          "steps": [
            { "id": "rate", "type": "llm", "prompt": "JSON-{{{tag}}} rate the urgency",
              "output": { "maxRepairs": {{{repairs}}}, "schema": { "type": "object", "required": ["priority"], "properties": { "priority": { "enum": ["low", "high"] } } } } }
          ]
        }
        """)!.AsObject();

}
