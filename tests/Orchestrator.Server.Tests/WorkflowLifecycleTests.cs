using System.Net;
using System.Text.Json.Nodes;
using Orchestrator.Server.Tests.Infrastructure;

namespace Orchestrator.Server.Tests;

/// <summary>Runs, cancels and retries real workflows through the Server against PostgreSQL, its durable backend and a fake LLM.</summary>
[Collection(EndToEnd.Name)]
public sealed class WorkflowLifecycleTests(ServerFixture fixture) : IClassFixture<ServerFixture>
{
    [Fact]
    public async Task A_three_step_workflow_completes_and_each_output_feeds_the_next()
    {
        var tag = Definitions.Tag();
        var (status, start, response) = await fixture.Api.PostAsync("/api/v1/workflows", new JsonObject
        {
            ["definition"] = Definitions.Chain(tag, 3),
            ["input"] = new JsonObject { ["text"] = "the quarterly report" },
        });

        Assert.Equal(HttpStatusCode.Accepted, status);
        var id = start!["id"]!.GetValue<string>();
        Assert.EndsWith($"/api/v1/workflows/{id}", response.Headers.Location!.ToString());
        foreach (var uri in new[] { "statusQueryGetUri", "sendEventPostUri", "terminatePostUri", "purgeHistoryDeleteUri", "restartPostUri", "suspendPostUri", "resumePostUri" })
        {
            Assert.Contains($"/runtime/webhooks/durabletask/instances/{id}", start[uri]!.GetValue<string>());
        }

        var run = await fixture.Api.WaitForStatusAsync(id, "Completed");

        var step1 = Assert.Single(fixture.Llm.Containing($"STEP1-{tag}"));
        Assert.Contains("the quarterly report", step1.Prompt);
        var step2 = Assert.Single(fixture.Llm.Containing($"STEP2-{tag}"));
        Assert.Contains(FakeOpenAiServer.AnswerFor(step1.Prompt), step2.Prompt);
        var step3 = Assert.Single(fixture.Llm.Containing($"STEP3-{tag}"));
        Assert.Contains(FakeOpenAiServer.AnswerFor(step2.Prompt), step3.Prompt);
        Assert.Equal(FakeOpenAiServer.AnswerFor(step3.Prompt), run["output"]!.GetValue<string>());
        Assert.Equal(3, run["progress"]!["completed"]!.GetValue<int>());
        Assert.NotNull(run["lastCheckpoint"]);

        var state = Assert.Single(await fixture.RowsAsync(
            "SELECT status, definition_name, output::text AS output, tokens_in, tokens_out, last_checkpoint, completed_at FROM workflow_states WHERE id = @id", ("id", id)));
        Assert.Equal("Completed", state["status"]);
        Assert.Equal("chain-3", state["definition_name"]);
        Assert.Equal($"\"{FakeOpenAiServer.AnswerFor(step3.Prompt)}\"", state["output"]);
        Assert.True((long)state["tokens_in"]! > 0);
        Assert.Equal(9L, state["tokens_out"]);
        Assert.NotNull(state["last_checkpoint"]);

        var steps = await fixture.RowsAsync(
            "SELECT step_id, iteration, attempt, status, output, provider, latency_ms, started_at, completed_at FROM workflow_steps WHERE run_id = @id ORDER BY started_at", ("id", id));
        Assert.Equal(["s1", "s2", "s3"], steps.Select(s => (string)s["step_id"]!));
        Assert.All(steps, s =>
        {
            Assert.Equal("Completed", s["status"]);
            Assert.Equal(1, s["attempt"]);
            Assert.Equal(0, s["iteration"]);
            Assert.Equal("default", s["provider"]);
            Assert.NotNull(s["latency_ms"]);
            Assert.True((DateTime)s["completed_at"]! >= (DateTime)s["started_at"]!);
        });
        Assert.Equal(FakeOpenAiServer.AnswerFor(step2.Prompt), steps[1]["output"]);
    }

    [Fact]
    public async Task Cancel_during_step_2_stops_the_run_and_step_3_is_never_requested()
    {
        var tag = Definitions.Tag();
        var gate = fixture.Llm.Hold($"STEP2-{tag}");
        var id = await fixture.Api.StartAsync(Definitions.Chain(tag, 3), new JsonObject { ["text"] = "cancel me" });
        await fixture.Llm.WaitForAsync($"STEP2-{tag}");

        var (status, body, _) = await fixture.Api.PostAsync($"/api/v1/workflows/{id}/cancel", null);
        Assert.Equal(HttpStatusCode.OK, status);
        Assert.Equal("Cancelled", body!["status"]!.GetValue<string>());

        gate.SetResult();
        await Task.Delay(TimeSpan.FromSeconds(6));

        Assert.Equal(0, fixture.Llm.CountContaining($"STEP3-{tag}"));
        var run = await fixture.Api.GetRunAsync(id);
        Assert.Equal("Cancelled", run["status"]!.GetValue<string>());
        Assert.Equal("Cancelled", await StringAsync("SELECT status FROM workflow_states WHERE id = @id", id));

        var instance = await fixture.Api.GetAsync($"/runtime/webhooks/durabletask/instances/{id}");
        Assert.Equal("Terminated", instance.Body!["runtimeStatus"]!.GetValue<string>());

        var (again, problem, _) = await fixture.Api.PostAsync($"/api/v1/workflows/{id}/cancel", null);
        Assert.Equal(HttpStatusCode.Conflict, again);
        Assert.Equal(409, problem!["status"]!.GetValue<int>());
    }

    [Fact]
    public async Task The_terminate_url_of_the_status_query_payload_cancels_the_run_like_the_cancel_endpoint()
    {
        var tag = Definitions.Tag();
        var gate = fixture.Llm.Hold($"STEP1-{tag}");
        var (_, start, _) = await fixture.Api.PostAsync("/api/v1/workflows", new JsonObject { ["definition"] = Definitions.Chain(tag, 2), ["input"] = new JsonObject { ["text"] = "stop" } });
        var id = start!["id"]!.GetValue<string>();
        await fixture.Llm.WaitForAsync($"STEP1-{tag}");

        var terminate = start["terminatePostUri"]!.GetValue<string>().Replace("{text}", "operator%20stop", StringComparison.Ordinal);
        using var response = await fixture.Api.Http.PostAsync(new Uri(terminate), null);
        gate.SetResult();

        Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
        var run = await fixture.Api.GetRunAsync(id);
        Assert.Equal(("Cancelled", "operator stop"), (run["status"]!.GetValue<string>(), run["error"]!.GetValue<string>()));
        var status = await fixture.Api.GetAsync(new Uri(start["statusQueryGetUri"]!.GetValue<string>()).PathAndQuery);
        for (var i = 0; i < 50 && status.Body!["runtimeStatus"]!.GetValue<string>() != "Terminated"; i++)
        {
            await Task.Delay(200);
            status = await fixture.Api.GetAsync(new Uri(start["statusQueryGetUri"]!.GetValue<string>()).PathAndQuery);
        }

        Assert.Equal("Terminated", status.Body!["runtimeStatus"]!.GetValue<string>());
        await Task.Delay(3000);
        Assert.Equal(0, fixture.Llm.CountContaining($"STEP2-{tag}"));
    }

    [Fact]
    public async Task A_permanently_failing_step_fails_the_run_and_retry_reuses_completed_steps()
    {
        var tag = Definitions.Tag();
        fixture.Llm.Fail($"STEP2-{tag}", 400, $"context length exceeded for {tag}");
        var id = await fixture.Api.StartAsync(Definitions.Chain(tag, 3), new JsonObject { ["text"] = "fail me" });

        var failed = await fixture.Api.WaitForStatusAsync(id, "Failed");
        Assert.Contains($"context length exceeded for {tag}", failed["error"]!.GetValue<string>());
        Assert.Equal(1, fixture.Llm.CountContaining($"STEP2-{tag}"));
        var failedStep = failed["steps"]!.AsArray().Single(s => s!["id"]!.GetValue<string>() == "s2")!;
        Assert.Equal("Failed", failedStep["status"]!.GetValue<string>());
        Assert.Contains($"context length exceeded for {tag}", failedStep["error"]!.GetValue<string>());

        var (notYet, _, _) = await fixture.Api.PostAsync($"/api/v1/workflows/{id}/cancel", null);
        Assert.Equal(HttpStatusCode.Conflict, notYet);

        fixture.Llm.Heal($"STEP2-{tag}");
        var (status, retry, response) = await fixture.Api.PostAsync($"/api/v1/workflows/{id}/retry", null);
        Assert.Equal(HttpStatusCode.Accepted, status);
        var retryId = retry!["id"]!.GetValue<string>();
        Assert.NotEqual(id, retryId);
        Assert.EndsWith($"/api/v1/workflows/{retryId}", response.Headers.Location!.ToString());

        var completed = await fixture.Api.WaitForStatusAsync(retryId, "Completed");
        Assert.Equal(1, fixture.Llm.CountContaining($"STEP1-{tag}"));
        Assert.Equal(2, fixture.Llm.CountContaining($"STEP2-{tag}"));
        Assert.Equal(1, fixture.Llm.CountContaining($"STEP3-{tag}"));
        Assert.Equal(id, completed["retryOf"]!.GetValue<string>());
        var reused = completed["steps"]!.AsArray().Single(s => s!["id"]!.GetValue<string>() == "s1")!;
        Assert.Equal(id, reused["reusedFrom"]!.GetValue<string>());

        var original = await fixture.Api.GetRunAsync(id);
        Assert.Equal(retryId, Assert.Single(original["retries"]!.AsArray())!.GetValue<string>());

        var (twice, same, _) = await fixture.Api.PostAsync($"/api/v1/workflows/{id}/retry", null);
        Assert.Equal(HttpStatusCode.OK, twice);
        Assert.Equal(retryId, same!["id"]!.GetValue<string>());

        var (finished, _, _) = await fixture.Api.PostAsync($"/api/v1/workflows/{retryId}/retry", null);
        Assert.Equal(HttpStatusCode.Conflict, finished);
    }

    [Fact]
    public async Task A_transient_failure_is_retried_by_the_durable_policy()
    {
        var tag = Definitions.Tag();
        fixture.Llm.Fail($"STEP1-{tag}", 503, "overloaded");
        var retry = new JsonObject { ["maxAttempts"] = 3, ["firstInterval"] = "1s", ["backoff"] = 1.0, ["maxInterval"] = "2s" };
        var id = await fixture.Api.StartAsync(Definitions.Chain(tag, 1, retry), new JsonObject { ["text"] = "flaky" });
        await fixture.Llm.WaitForAsync($"STEP1-{tag}", count: 2);
        fixture.Llm.Heal($"STEP1-{tag}");

        var run = await fixture.Api.WaitForStatusAsync(id, "Completed");
        var step = Assert.Single(run["steps"]!.AsArray())!;
        Assert.True(step["attempt"]!.GetValue<int>() >= 2, step.ToJsonString());
        Assert.Equal("Completed", step["status"]!.GetValue<string>());
    }

    [Fact]
    public async Task The_registered_sample_runs_by_name()
    {
        var (status, start, _) = await fixture.Api.PostAsync("/api/v1/workflows", new JsonObject
        {
            ["definition"] = "summarize-classify",
            ["input"] = new JsonObject { ["text"] = "Checkout fails with a 500 for every customer since the deploy." },
        });
        Assert.Equal(HttpStatusCode.Accepted, status);

        var run = await fixture.Api.WaitForStatusAsync(start!["id"]!.GetValue<string>(), "Completed");
        Assert.Equal("summarize-classify@1", run["definition"]!.GetValue<string>());
        Assert.NotNull(run["output"]!["category"]);
        Assert.Equal(["summarize", "classify"], run["steps"]!.AsArray().Select(s => s!["id"]!.GetValue<string>()));
    }

    private async Task<string?> StringAsync(string sql, string id) =>
        (string?)(await fixture.RowsAsync(sql, ("id", id))).Single().Values.Single();
}
