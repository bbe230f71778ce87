using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using Orchestrator.Core.Api;
using Orchestrator.Core.Definitions;
using Orchestrator.Core.Persistence;
using Orchestrator.Core.Tests.Fakes;
using Orchestrator.Core.Workflows;

namespace Orchestrator.Core.Tests.Api;

public sealed class WorkflowHttpHandlersTests : IAsyncLifetime
{
    private readonly PostgresDatabase database = new();
    private readonly DurableClientFake client = new();
    private WorkflowStore store = null!;
    private WorkflowHttpHandlers handlers = null!;
    private Orchestrator.Core.Operations.ClusterState cluster = null!;

    private const string Definition = """{"name":"two","steps":[{"id":"a","type":"llm","prompt":"A {{ input.text }}"},{"id":"b","type":"llm","prompt":"B {{ steps.a.output }}"}]}""";

    public async Task InitializeAsync()
    {
        await database.InitializeAsync();
        store = new WorkflowStore(database.DataSource);
        var registry = new DefinitionRegistry([]);
        var runs = new WorkflowRuns(store, registry, Gateways.Create(new Orchestrator.Core.Llm.LlmOptions { Provider = "simulated" }, database.DataSource), NullLogger<WorkflowRuns>.Instance);
        cluster = ClusterStates.For(database.DataSource);
        handlers = new WorkflowHttpHandlers(runs, store, Options.Create(new ApiOptions { MaxRequestBytes = 4096 }), cluster);
    }

    public Task DisposeAsync() => database.DisposeAsync();

    [Fact]
    public async Task Start_stores_a_pending_run_and_schedules_the_orchestrator_under_the_run_id()
    {
        var (status, body, headers) = await ExecuteAsync(h => h.StartAsync(Request(StartBody("{\"text\":\"hi\"}")), client.Object, new StaticPayloads(), default));

        Assert.Equal(202, status);
        var id = body!["id"]!.GetValue<string>();
        Assert.EndsWith($"/api/v1/workflows/{id}", headers.Location!.ToString());
        Assert.Equal($"http://host/runtime/webhooks/durabletask/instances/{id}", body["statusQueryGetUri"]!.GetValue<string>());
        var scheduled = Assert.Single(client.Scheduled);
        Assert.Equal(WorkflowTaskNames.Orchestrator, scheduled.Name);
        Assert.Equal(id, scheduled.InstanceId);
        var input = Assert.IsType<WorkflowRunInput>(scheduled.Input);
        Assert.Equal("two", DefinitionJson.Deserialize(input.DefinitionJson).Name);
        Assert.Equal(RunStatus.Pending, (await store.GetRunAsync(id, default))!.Status);
    }

    [Fact]
    public async Task The_same_idempotency_key_returns_the_existing_run_and_schedules_once()
    {
        var request = StartBody("{\"text\":\"hi\"}", "k-1");
        var (first, body1, _) = await ExecuteAsync(h => h.StartAsync(Request(request), client.Object, new StaticPayloads(), default));
        var (second, body2, _) = await ExecuteAsync(h => h.StartAsync(Request(request), client.Object, new StaticPayloads(), default));

        Assert.Equal(202, first);
        Assert.Equal(200, second);
        Assert.Equal(body1!["id"]!.GetValue<string>(), body2!["id"]!.GetValue<string>());
        Assert.Single(client.Scheduled);
        Assert.Equal(1, await database.CountAsync("workflow_states"));
    }

    [Fact]
    public async Task When_the_task_hub_refuses_the_run_the_answer_is_503_and_nothing_stays_stored()
    {
        client.FailScheduling = true;

        var (status, body, _) = await ExecuteAsync(h => h.StartAsync(Request(StartBody("{}")), client.Object, new StaticPayloads(), default));

        Assert.Equal(503, status);
        Assert.Equal(503, body!["status"]!.GetValue<int>());
        Assert.Equal(0, await database.CountAsync("workflow_states"));
    }

    [Fact]
    public async Task In_maintenance_mode_a_start_is_refused_with_503_and_Retry_After_and_nothing_is_stored_or_scheduled()
    {
        cluster.Apply(new Orchestrator.Core.Operations.MaintenanceState(true, DateTimeOffset.UtcNow, "upgrade", "admin-token"));

        var (status, body, headers) = await ExecuteAsync(h => h.StartAsync(Request(StartBody("{\"text\":\"hi\"}")), client.Object, new StaticPayloads(), default));

        Assert.Equal(503, status);
        Assert.Equal("60", headers.Headers.RetryAfter.ToString());
        Assert.Contains("upgrade", body!["detail"]!.GetValue<string>(), StringComparison.Ordinal);
        Assert.Empty(client.Scheduled);
        Assert.Equal(0, await database.CountAsync("workflow_states"));
    }

    [Theory]
    [InlineData("{not json", "body")]
    [InlineData("{\"definition\":{\"name\":\"x\",\"steps\":[{\"id\":\"a\",\"type\":\"llm\",\"prompt\":\"{{ steps.zzz.output }}\"}]}}", "definition.steps[0].prompt")]
    [InlineData("{\"definition\":\"nope\"}", "definition")]
    public async Task Bad_start_requests_get_400_naming_the_field_and_schedule_nothing(string body, string path)
    {
        var (status, problem, _) = await ExecuteAsync(h => h.StartAsync(Request(body), client.Object, new StaticPayloads(), default));

        Assert.Equal(400, status);
        Assert.Contains(problem!["errors"]!.AsArray(), e => e!["path"]!.GetValue<string>() == path);
        Assert.Empty(client.Scheduled);
        Assert.Equal(0, await database.CountAsync("workflow_states"));
    }

    [Fact]
    public async Task A_body_over_the_limit_gets_413()
    {
        var (status, _, _) = await ExecuteAsync(h => h.StartAsync(Request("{\"input\":\"" + new string('x', 5000) + "\"}"), client.Object, new StaticPayloads(), default));

        Assert.Equal(413, status);
    }

    [Fact]
    public async Task Cancel_marks_the_run_cancelled_and_terminates_the_instance_and_a_second_cancel_gets_409()
    {
        var (_, started, _) = await ExecuteAsync(h => h.StartAsync(Request(StartBody("{}")), client.Object, new StaticPayloads(), default));
        var id = started!["id"]!.GetValue<string>();

        var (status, _, _) = await ExecuteAsync(h => h.CancelAsync(Request(""), id, client.Object, default));
        var (again, problem, _) = await ExecuteAsync(h => h.CancelAsync(Request(""), id, client.Object, default));

        Assert.Equal(200, status);
        Assert.Equal([id], client.Terminated);
        Assert.Equal(RunStatus.Cancelled, (await store.GetRunAsync(id, default))!.Status);
        Assert.Equal(409, again);
        Assert.Equal("Cancelled", problem!["runStatus"]!.GetValue<string>());
    }

    [Fact]
    public async Task Retry_of_a_failed_run_copies_its_completed_steps_and_links_the_new_run()
    {
        var (_, started, _) = await ExecuteAsync(h => h.StartAsync(Request(StartBody("{}")), client.Object, new StaticPayloads(), default));
        var id = started!["id"]!.GetValue<string>();
        await store.ClaimStepAsync(StepClaims.Request(id, "a", 0), default);
        await store.CompleteStepAsync(new StepCompletion(id, "a", 0, StepStatus.Completed, "A-out", 3, 4, 0m, "fake", "m", 10), default);
        await store.ClaimStepAsync(StepClaims.Request(id, "b", 0), default);
        await store.FailStepAsync(id, "b", 0, "rejected", "fake", 5, null, default);
        await store.FinishRunAsync(id, RunStatus.Failed, null, "step 'b' failed", default);

        var (status, retried, _) = await ExecuteAsync(h => h.RetryAsync(Request(""), id, client.Object, new StaticPayloads(), default));

        Assert.Equal(202, status);
        var retryId = retried!["id"]!.GetValue<string>();
        var steps = await store.GetStepsAsync(retryId, default);
        var copied = Assert.Single(steps);
        Assert.Equal(("a", "A-out", id), (copied.StepId, copied.Output, copied.ReusedFrom));
        Assert.Equal(id, (await store.GetRunAsync(retryId, default))!.RetryOf);
        Assert.Equal(retryId, ((WorkflowRunInput)client.Scheduled[^1].Input!).RunId);

        var claim = await store.ClaimStepAsync(StepClaims.Request(retryId, "a", 0), default);
        Assert.Equal(StepClaimKind.AlreadyCompleted, claim.Kind);
        Assert.Equal("A-out", claim.Completed!.Output);
    }

    [Fact]
    public async Task Retry_of_a_run_that_is_not_failed_or_cancelled_gets_409()
    {
        var (_, started, _) = await ExecuteAsync(h => h.StartAsync(Request(StartBody("{}")), client.Object, new StaticPayloads(), default));

        var (status, _, _) = await ExecuteAsync(h => h.RetryAsync(Request(""), started!["id"]!.GetValue<string>(), client.Object, new StaticPayloads(), default));

        Assert.Equal(409, status);
    }

    [Fact]
    public async Task Get_of_an_unknown_run_is_404()
    {
        var (status, _, _) = await ExecuteAsync(h => h.GetAsync("nope", default));

        Assert.Equal(404, status);
    }

    private static string StartBody(string input, string? key = null) =>
        "{\"definition\":" + Definition + ",\"input\":" + input + (key is null ? "" : ",\"idempotencyKey\":\"" + key + "\"") + "}";

    private static HttpRequest Request(string body)
    {
        var context = new DefaultHttpContext();
        context.Request.Scheme = "http";
        context.Request.Host = new HostString("host");
        context.Request.Body = new MemoryStream(Encoding.UTF8.GetBytes(body));
        context.Request.ContentLength = Encoding.UTF8.GetByteCount(body);
        return context.Request;
    }

    private async Task<(int Status, JsonNode? Body, Microsoft.AspNetCore.Http.Headers.ResponseHeaders Headers)> ExecuteAsync(Func<WorkflowHttpHandlers, Task<IResult>> call)
    {
        var result = await call(handlers);
        var context = new DefaultHttpContext
        {
            RequestServices = new ServiceCollection().AddLogging().AddProblemDetails().BuildServiceProvider(),
        };
        context.Response.Body = new MemoryStream();
        await result.ExecuteAsync(context);
        context.Response.Body.Position = 0;
        var text = await new StreamReader(context.Response.Body).ReadToEndAsync();
        return (context.Response.StatusCode, text.Length == 0 ? null : JsonNode.Parse(text), context.Response.GetTypedHeaders());
    }
}
