using System.Globalization;
using System.Net;
using System.Text.Json.Nodes;
using Orchestrator.Core.Workflows;
using Orchestrator.Server.Tests.Infrastructure;

namespace Orchestrator.Server.Tests;

/// <summary>
/// The Durable Functions HTTP API on the Server, as a client written for Durable Functions uses it: status with
/// history, listing with filters and continuation tokens, purge by filter, and 400s for every bad query value.
/// </summary>
[Collection(EndToEnd.Name)]
public sealed class DurableHttpApiTests(ServerFixture fixture) : IClassFixture<ServerFixture>
{
    private const string Instances = "/runtime/webhooks/durabletask/instances";
    private const string ContinuationHeader = "x-ms-continuation-token";

    [Fact]
    public async Task Show_history_returns_the_events_of_a_completed_run_with_their_outputs_only_when_asked()
    {
        var tag = Definitions.Tag();
        var id = await fixture.Api.StartAsync(Definitions.Chain(tag, 2), new JsonObject { ["text"] = "history please" });
        await fixture.Api.WaitForStatusAsync(id, "Completed");
        var answer1 = FakeOpenAiServer.AnswerFor(Assert.Single(fixture.Llm.Containing($"STEP1-{tag}")).Prompt);
        var answer2 = FakeOpenAiServer.AnswerFor(Assert.Single(fixture.Llm.Containing($"STEP2-{tag}")).Prompt);

        var (status, full) = await WaitForRuntimeStatusAsync(id, "Completed", "showHistory=true&showHistoryOutput=true");

        Assert.Equal(HttpStatusCode.OK, status);
        var events = full["historyEvents"]!.AsArray().Select(e => e!.AsObject()).ToList();
        var types = events.Select(e => e["EventType"]!.GetValue<string>()).ToList();
        Assert.Equal("ExecutionStarted", types[0]);
        Assert.Equal(WorkflowTaskNames.Orchestrator, events[0]["FunctionName"]!.GetValue<string>());
        Assert.Contains(id, events[0]["Input"]!.GetValue<string>());
        Assert.Equal("ExecutionCompleted", types[^1]);
        Assert.Equal("Completed", events[^1]["OrchestrationStatus"]!.GetValue<string>());
        Assert.True(JsonNode.DeepEquals(full["output"], events[^1]["Result"]), $"{full["output"]} vs {events[^1]["Result"]}");
        Assert.DoesNotContain("OrchestratorStarted", types);
        Assert.DoesNotContain("TaskScheduled", types);

        var tasks = events.Where(e => e["EventType"]!.GetValue<string>() == "TaskCompleted").ToList();
        Assert.Equal([WorkflowTaskNames.RunLlmStep, WorkflowTaskNames.RunLlmStep, WorkflowTaskNames.FinishRun], tasks.Select(t => t["FunctionName"]!.GetValue<string>()));
        Assert.Equal([answer1, answer2], tasks.Take(2).Select(t => t["Result"]!["Output"]!.GetValue<string>()));
        Assert.All(tasks, t => Assert.True(Time(t["ScheduledTime"]) <= Time(t["Timestamp"]), t.ToJsonString()));
        Assert.Equal(events.Select(e => Time(e["Timestamp"])).Order(), events.Select(e => Time(e["Timestamp"])));

        var (_, withoutOutputs) = await GetInstanceAsync(id, "showHistory=true");
        var bare = withoutOutputs["historyEvents"]!.AsArray();
        Assert.Equal(types, bare.Select(e => e!["EventType"]!.GetValue<string>()));
        Assert.All(bare, e => Assert.False(e!.AsObject().ContainsKey("Result"), e.ToJsonString()));
        Assert.Contains(answer2, withoutOutputs["output"]!["OutputJson"]!.GetValue<string>());

        var (_, noHistory) = await GetInstanceAsync(id, "");
        Assert.False(noHistory.AsObject().ContainsKey("historyEvents"));
        Assert.Equal(id, noHistory["input"]!["RunId"]!.GetValue<string>());

        var (_, noInput) = await GetInstanceAsync(id, "showHistory=true&showInput=false");
        Assert.Null(noInput["input"]);
        Assert.All(noInput["historyEvents"]!.AsArray(), e => Assert.False(e!.AsObject().ContainsKey("Input"), e.ToJsonString()));
    }

    [Fact]
    public async Task The_list_filters_by_runtime_status_and_created_time()
    {
        var earlier = await fixture.Api.StartAsync(Definitions.Chain(Definitions.Tag(), 1), new JsonObject { ["text"] = "before the window" });
        var from = DateTime.UtcNow;
        var done1 = await fixture.Api.StartAsync(Definitions.Chain(Definitions.Tag(), 1), new JsonObject { ["text"] = "done one" });
        var done2 = await fixture.Api.StartAsync(Definitions.Chain(Definitions.Tag(), 1), new JsonObject { ["text"] = "done two" });
        var heldTag = Definitions.Tag();
        var gate = fixture.Llm.Hold($"STEP1-{heldTag}");
        try
        {
            var held = await fixture.Api.StartAsync(Definitions.Chain(heldTag, 1), new JsonObject { ["text"] = "held" });
            var to = DateTime.UtcNow;
            await fixture.Llm.WaitForAsync($"STEP1-{heldTag}");
            await WaitForRuntimeStatusAsync(done1, "Completed");
            await WaitForRuntimeStatusAsync(done2, "Completed");
            var window = $"createdTimeFrom={Iso(from)}&createdTimeTo={Iso(to)}";

            Assert.Equal(Set(done1, done2), Ids(await ListAllAsync($"{window}&runtimeStatus=Completed")));
            Assert.Equal(Set(held), Ids(await ListAllAsync($"{window}&runtimeStatus=Running")));
            Assert.Equal(Set(done1, done2, held), Ids(await ListAllAsync($"{window}&runtimeStatus=Completed,Running")));
            Assert.Equal(Set(done1, done2, held), Ids(await ListAllAsync($"{window}&runtimeStatus=Completed&runtimeStatus=running")));
            Assert.Equal(Set(done1, done2, held), Ids(await ListAllAsync(window)));
            Assert.Empty(await ListAllAsync($"{window}&runtimeStatus=Failed,Terminated"));
            Assert.Contains(earlier, Ids(await ListAllAsync($"createdTimeTo={Iso(from)}")));
            Assert.DoesNotContain(earlier, Ids(await ListAllAsync($"createdTimeFrom={Iso(from)}")));
            Assert.Equal(Set(done1), Ids(await ListAllAsync($"{window}&instanceIdPrefix={done1[..12]}")));

            var listed = await ListAllAsync(window);
            Assert.All(listed, i => Assert.Equal(i["instanceId"]!.GetValue<string>(), i["input"]!["RunId"]!.GetValue<string>()));
            Assert.All(listed, i => Assert.Equal(WorkflowTaskNames.Orchestrator, i["name"]!.GetValue<string>()));
            Assert.All(await ListAllAsync($"{window}&showInput=false"), i => Assert.Null(i["input"]));
            var completed = listed.Single(i => i["instanceId"]!.GetValue<string>() == done1);
            Assert.Equal("Completed", completed["output"]!["Status"]!.GetValue<string>());

            var (status, running, response) = await fixture.Api.GetAsync($"{Instances}/{held}");
            Assert.Equal(HttpStatusCode.Accepted, status);
            Assert.Equal("Running", running!["runtimeStatus"]!.GetValue<string>());
            Assert.EndsWith($"{Instances}/{held}", response.Headers.Location!.ToString());
            Assert.Equal(TimeSpan.FromSeconds(5), response.Headers.RetryAfter!.Delta);
        }
        finally
        {
            gate.SetResult();
        }
    }

    [Fact]
    public async Task Paging_with_top_and_the_continuation_token_returns_every_instance_exactly_once()
    {
        var from = DateTime.UtcNow;
        var started = new List<string>();
        for (var i = 0; i < 5; i++)
        {
            started.Add(await fixture.Api.StartAsync(Definitions.Chain(Definitions.Tag(), 1), new JsonObject { ["text"] = $"page {i}" }));
        }

        var to = DateTime.UtcNow;
        var pages = new List<List<string>>();
        string? token = null;
        do
        {
            var (status, items, next) = await ListPageAsync($"createdTimeFrom={Iso(from)}&createdTimeTo={Iso(to)}&top=2", token);
            Assert.Equal(HttpStatusCode.OK, status);
            pages.Add(items.Select(i => i["instanceId"]!.GetValue<string>()).ToList());
            token = next;
            Assert.True(pages.Count <= 10, "the continuation token never ran out");
        }
        while (token is not null);

        Assert.All(pages, p => Assert.True(p.Count <= 2, $"a page of top=2 held {p.Count}"));
        Assert.True(pages.Count >= 3, $"5 instances fit in {pages.Count} page(s) of 2");
        var all = pages.SelectMany(p => p).ToList();
        Assert.Equal(all.Count, all.Distinct().Count());
        Assert.Equal(started.ToHashSet(), all.ToHashSet());
    }

    [Fact]
    public async Task Purge_by_filter_deletes_exactly_the_instances_it_counts()
    {
        var outside = await fixture.Api.StartAsync(Definitions.Chain(Definitions.Tag(), 1), new JsonObject { ["text"] = "keep me" });
        var from = DateTime.UtcNow;
        var doomed = new[]
        {
            await fixture.Api.StartAsync(Definitions.Chain(Definitions.Tag(), 1), new JsonObject { ["text"] = "purge one" }),
            await fixture.Api.StartAsync(Definitions.Chain(Definitions.Tag(), 1), new JsonObject { ["text"] = "purge two" }),
        };
        var to = DateTime.UtcNow;
        foreach (var id in doomed.Append(outside))
        {
            await WaitForRuntimeStatusAsync(id, "Completed");
        }

        var filter = $"createdTimeFrom={Iso(from)}&createdTimeTo={Iso(to)}";
        var (notRunning, nothing, _) = await SendAsync(HttpMethod.Delete, $"{Instances}?{filter}&runtimeStatus=Running");
        Assert.True(notRunning == HttpStatusCode.NotFound, $"purging Running instances of the window answered {notRunning}: {nothing}");

        var (status, body, _) = await SendAsync(HttpMethod.Delete, $"{Instances}?{filter}&runtimeStatus=Completed");

        Assert.Equal(HttpStatusCode.OK, status);
        Assert.Equal(2, body!["instancesDeleted"]!.GetValue<int>());
        foreach (var id in doomed)
        {
            Assert.Equal(HttpStatusCode.NotFound, (await fixture.Api.GetAsync($"{Instances}/{id}")).Status);
        }

        Assert.Empty(await ListAllAsync(filter));
        Assert.Equal(HttpStatusCode.OK, (await fixture.Api.GetAsync($"{Instances}/{outside}")).Status);

        var (again, problem, response) = await SendAsync(HttpMethod.Delete, $"{Instances}?{filter}");
        Assert.Equal(HttpStatusCode.NotFound, again);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        Assert.Equal(404, problem!["status"]!.GetValue<int>());
    }

    public static TheoryData<string, string, string> BadQueries => new()
    {
        { "GET", "?createdTimeFrom=yesterday", "createdTimeFrom" },
        { "GET", "?createdTimeTo=2024-13-45T00:00:00Z", "createdTimeTo" },
        { "GET", "?createdTimeFrom=2024-01-01T00:00:00+02:00", "createdTimeFrom" },
        { "GET", "?createdTimeFrom=2024-02-01T00:00:00Z&createdTimeTo=2024-01-01T00:00:00Z", "createdTimeTo" },
        { "GET", "?top=-1", "top" },
        { "GET", "?top=0", "top" },
        { "GET", "?top=1001", "top" },
        { "GET", "?top=99999999999999999999", "top" },
        { "GET", "?top=ten", "top" },
        { "GET", "?top=2&top=3", "top" },
        { "GET", "?runtimeStatus=Completed,Sleeping", "runtimeStatus" },
        { "GET", "?runtimeStatus=2", "runtimeStatus" },
        { "GET", "?showInput=maybe", "showInput" },
        { "GET", "/some-id?showHistory=yes", "showHistory" },
        { "GET", "/some-id?showHistoryOutput=1", "showHistoryOutput" },
        { "GET", "/some-id?showInput=no", "showInput" },
        { "DELETE", "", "createdTimeFrom" },
        { "DELETE", "?createdTimeFrom=soon", "createdTimeFrom" },
        { "DELETE", "?createdTimeFrom=2024-01-01T00:00:00Z&runtimeStatus=Gone", "runtimeStatus" },
        { "DELETE", "?createdTimeFrom=2024-01-01T00:00:00Z&createdTimeTo=noon", "createdTimeTo" },
    };

    [Theory]
    [MemberData(nameof(BadQueries))]
    public async Task A_bad_query_value_gets_400_naming_the_parameter(string method, string pathAndQuery, string parameter)
    {
        var (status, problem, response) = await SendAsync(new HttpMethod(method), Instances + pathAndQuery);

        AssertProblemNaming(status, problem, response, parameter);
    }

    [Fact]
    public async Task A_forged_or_altered_continuation_token_gets_400_naming_the_header()
    {
        var from = DateTime.UtcNow;
        await fixture.Api.StartAsync(Definitions.Chain(Definitions.Tag(), 1), new JsonObject { ["text"] = "token one" });
        await fixture.Api.StartAsync(Definitions.Chain(Definitions.Tag(), 1), new JsonObject { ["text"] = "token two" });
        var (_, _, real) = await ListPageAsync($"createdTimeFrom={Iso(from)}&top=1", null);
        Assert.NotNull(real);
        var (ok, _, _) = await ListPageAsync($"createdTimeFrom={Iso(from)}&top=1", real);
        Assert.Equal(HttpStatusCode.OK, ok);

        var altered = real[..^1] + (real[^1] == '0' ? '1' : '0');
        // A well-formed token for another position ("somewhere else "), carrying the real token's checksum.
        var otherPosition = "c29tZXdoZXJlIGVsc2Ug" + real[real.IndexOf('.', StringComparison.Ordinal)..];
        foreach (var forged in new[] { "garbage", "!!!", "eyJ4IjoxfQ==", altered, otherPosition, new string('a', 4000) })
        {
            using var request = new HttpRequestMessage(HttpMethod.Get, Instances);
            request.Headers.TryAddWithoutValidation(ContinuationHeader, forged);
            using var response = await fixture.Api.Http.SendAsync(request);
            var problem = JsonNode.Parse(await response.Content.ReadAsStringAsync());

            AssertProblemNaming(response.StatusCode, problem, response, ContinuationHeader);
        }
    }

    [Fact]
    public async Task Operations_on_a_finished_instance_answer_410_and_on_an_unknown_one_404()
    {
        var id = await fixture.Api.StartAsync(Definitions.Chain(Definitions.Tag(), 1), new JsonObject { ["text"] = "finished" });
        await WaitForRuntimeStatusAsync(id, "Completed");
        var unknown = Guid.NewGuid().ToString("N");

        foreach (var operation in new[] { "terminate?reason=late", "raiseEvent/approve", "suspend", "resume" })
        {
            // An event must be a well-formed approval decision before the instance is looked up.
            JsonObject Body() => operation.StartsWith("raiseEvent", StringComparison.Ordinal) ? new JsonObject { ["approved"] = true } : new JsonObject();
            var (gone, problem, response) = await fixture.Api.PostAsync($"{Instances}/{id}/{operation}", Body());
            Assert.True(gone == HttpStatusCode.Gone, $"{operation}: {gone} {problem}");
            Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
            Assert.Equal(id, problem!["id"]!.GetValue<string>());

            var (missing, _, _) = await fixture.Api.PostAsync($"{Instances}/{unknown}/{operation}", Body());
            Assert.True(missing == HttpStatusCode.NotFound, $"{operation} of an unknown instance: {missing}");
        }

        Assert.Equal("Completed", (await fixture.Api.GetRunAsync(id))["status"]!.GetValue<string>());
        Assert.Equal(HttpStatusCode.NotFound, (await fixture.Api.GetAsync($"{Instances}/{unknown}")).Status);
        Assert.Equal(HttpStatusCode.NotFound, (await SendAsync(HttpMethod.Delete, $"{Instances}/{unknown}")).Status);
    }

    [Fact]
    public async Task Suspend_and_resume_of_a_running_instance_answer_202_and_the_run_still_completes()
    {
        var tag = Definitions.Tag();
        var gate = fixture.Llm.Hold($"STEP2-{tag}");
        try
        {
            var id = await fixture.Api.StartAsync(Definitions.Chain(tag, 2), new JsonObject { ["text"] = "pause" });
            await fixture.Llm.WaitForAsync($"STEP2-{tag}");

            var (suspend, _, _) = await fixture.Api.PostAsync($"{Instances}/{id}/suspend?reason=maintenance", null);
            Assert.Equal(HttpStatusCode.Accepted, suspend);
            var (whileSuspended, _) = await WaitForRuntimeStatusAsync(id, "Suspended");
            Assert.Equal(HttpStatusCode.Accepted, whileSuspended);

            var (resume, _, _) = await fixture.Api.PostAsync($"{Instances}/{id}/resume", null);
            Assert.Equal(HttpStatusCode.Accepted, resume);
            await WaitForRuntimeStatusAsync(id, "Running");
            gate.SetResult();

            var (done, body) = await WaitForRuntimeStatusAsync(id, "Completed", "showHistory=true");
            Assert.Equal(HttpStatusCode.OK, done);
            var types = body["historyEvents"]!.AsArray().Select(e => e!["EventType"]!.GetValue<string>()).ToList();
            Assert.True(types.IndexOf("ExecutionSuspended") < types.IndexOf("ExecutionResumed") && types.Contains("ExecutionSuspended"), string.Join(", ", types));
            Assert.Equal("maintenance", body["historyEvents"]!.AsArray().First(e => e!["EventType"]!.GetValue<string>() == "ExecutionSuspended")!["Reason"]!.GetValue<string>());
        }
        finally
        {
            gate.TrySetResult();
        }
    }

    private static void AssertProblemNaming(HttpStatusCode status, JsonNode? problem, HttpResponseMessage response, string parameter)
    {
        Assert.True(status == HttpStatusCode.BadRequest, $"{response.RequestMessage!.RequestUri}: {status} {problem}");
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        Assert.Equal(400, problem!["status"]!.GetValue<int>());
        var paths = problem["errors"]!.AsArray().Select(e => e!["path"]!.GetValue<string>()).ToList();
        Assert.True(paths.Contains(parameter), $"expected an error at {parameter}, got {problem}");
        Assert.DoesNotContain("   at ", problem.ToJsonString(), StringComparison.Ordinal);
    }

    private async Task<(HttpStatusCode Status, JsonNode Body)> GetInstanceAsync(string id, string query)
    {
        var (status, body, _) = await fixture.Api.GetAsync($"{Instances}/{id}?{query}");
        Assert.True(status is HttpStatusCode.OK or HttpStatusCode.Accepted, $"GET {id}?{query} answered {status}: {body}");
        return (status, body!);
    }

    private async Task<(HttpStatusCode Status, JsonNode Body)> WaitForRuntimeStatusAsync(string id, string runtimeStatus, string query = "")
    {
        var deadline = DateTimeOffset.UtcNow + TimeSpan.FromSeconds(60);
        while (true)
        {
            var (status, body) = await GetInstanceAsync(id, query);
            if (body["runtimeStatus"]!.GetValue<string>() == runtimeStatus)
            {
                return (status, body);
            }

            Assert.True(DateTimeOffset.UtcNow < deadline, $"instance {id} did not become {runtimeStatus}: {body}");
            await Task.Delay(200);
        }
    }

    private async Task<(HttpStatusCode Status, List<JsonNode> Items, string? Next)> ListPageAsync(string query, string? continuation)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, $"{Instances}?{query}");
        if (continuation is not null)
        {
            request.Headers.Add(ContinuationHeader, continuation);
        }

        using var response = await fixture.Api.Http.SendAsync(request);
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.OK, $"list ?{query} answered {response.StatusCode}: {text}");
        var next = response.Headers.TryGetValues(ContinuationHeader, out var values) ? values.Single() : null;
        return (response.StatusCode, JsonNode.Parse(text)!.AsArray().Select(i => i!).ToList(), next);
    }

    private async Task<List<JsonNode>> ListAllAsync(string query)
    {
        var items = new List<JsonNode>();
        string? token = null;
        do
        {
            var (_, page, next) = await ListPageAsync(query, token);
            items.AddRange(page);
            token = next;
        }
        while (token is not null);

        return items;
    }

    private async Task<(HttpStatusCode Status, JsonNode? Body, HttpResponseMessage Response)> SendAsync(HttpMethod method, string path)
    {
        using var request = new HttpRequestMessage(method, path);
        if (method == HttpMethod.Delete)
        {
            // Purging by filter is an operator's action and needs the admin token (one instance may be purged with an API key).
            request.Headers.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", TestEnvironment.AdminToken);
        }

        var response = await fixture.Api.Http.SendAsync(request);
        var text = await response.Content.ReadAsStringAsync();
        return (response.StatusCode, text.Length == 0 ? null : JsonNode.Parse(text), response);
    }

    private static HashSet<string> Set(params string[] ids) => [.. ids];

    private static HashSet<string> Ids(IEnumerable<JsonNode> items) => [.. items.Select(i => i["instanceId"]!.GetValue<string>())];

    private static string Iso(DateTime time) => Uri.EscapeDataString(time.ToUniversalTime().ToString("o", CultureInfo.InvariantCulture));

    private static DateTimeOffset Time(JsonNode? node) => DateTimeOffset.Parse(node!.GetValue<string>(), CultureInfo.InvariantCulture);
}
