using System.Diagnostics;
using System.Net;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Orchestrator.Server.Tests.Infrastructure;

namespace Orchestrator.Server.Tests;

/// <summary>
/// One run seen from outside: the trace context of the start request reaches every LLM call, and the Server's
/// JSON log lines (stdout and the file sink) carry the run's ids and the same trace id.
/// </summary>
[Collection(EndToEnd.Name)]
public sealed class TelemetryTests : IAsyncLifetime
{
    private readonly string database = TestEnvironment.NewDatabase("orch_tel");
    private readonly string taskHub = "tel" + Guid.NewGuid().ToString("N")[..10];
    private readonly string logDirectory = Path.Combine(Path.GetTempPath(), "orch-logs-" + Guid.NewGuid().ToString("N")[..8]);
    private FakeOpenAiServer llm = null!;
    private ServerProcess server = null!;
    private OrchestratorApi api = null!;

    public async Task InitializeAsync()
    {
        llm = await FakeOpenAiServer.StartAsync();
        server = new ServerProcess(database, taskHub, llm.BaseUrl, new Dictionary<string, string?>
        {
            ["Logging__File__Path"] = logDirectory,
            // Npgsql logs inside the activities at Debug: its lines can only get a run's ids from the activity's scope.
            ["Logging__LogLevel__Npgsql.Connection"] = "Debug",
        });
        await server.StartAsync();
        api = new OrchestratorApi(server.BaseAddress);
    }

    public async Task DisposeAsync()
    {
        api.Dispose();
        await server.DisposeAsync();
        await llm.DisposeAsync();
        await TestEnvironment.DropDatabaseAsync(database);
        if (Directory.Exists(logDirectory))
        {
            Directory.Delete(logDirectory, recursive: true);
        }
    }

    [Fact]
    public async Task Every_LLM_call_of_a_run_carries_the_trace_id_of_the_HTTP_request_that_started_it()
    {
        var tag = Definitions.Tag();
        var (traceId, requestSpanId, id) = await StartTracedAsync(Definitions.Chain(tag, 3));
        await api.WaitForStatusAsync(id, "Completed");

        var calls = llm.Containing(tag);
        Assert.Equal(3, calls.Count);
        var contexts = calls.Select(call => ParseTraceParent(call.TraceParent)).ToList();
        Assert.All(contexts, context => Assert.Equal(traceId, context.TraceId));
        // Each call is a span of its own below the request's, not the request's context passed through.
        Assert.All(contexts, context => Assert.NotEqual(requestSpanId, context.SpanId));
        Assert.Equal(3, contexts.Select(c => c.SpanId).Distinct().Count());
    }

    [Fact]
    public async Task A_run_without_a_traceparent_still_has_one_trace_of_its_own_across_its_LLM_calls()
    {
        var tag = Definitions.Tag();
        var id = await api.StartAsync(Definitions.Chain(tag, 2), new JsonObject { ["text"] = "no incoming trace" });
        await api.WaitForStatusAsync(id, "Completed");

        var traceIds = llm.Containing(tag).Select(call => ParseTraceParent(call.TraceParent).TraceId).Distinct().ToList();
        Assert.Single(traceIds);
    }

    [Fact]
    public async Task Log_lines_on_stdout_are_JSON_and_a_steps_lines_carry_the_run_id_step_id_and_trace_id()
    {
        var tag = Definitions.Tag();
        var (traceId, _, id) = await StartTracedAsync(Definitions.Chain(tag, 2));
        await api.WaitForStatusAsync(id, "Completed");

        var lines = await WaitForLinesAsync(() => server.StandardOutput.Where(l => l.Length > 0).ToList(), id, "s2");
        var events = lines.Select(ParseLine).ToList();
        AssertStepLines(events, id, traceId);
    }

    [Fact]
    public async Task The_file_sink_writes_the_same_JSON_lines_to_the_configured_directory()
    {
        var tag = Definitions.Tag();
        var (traceId, _, id) = await StartTracedAsync(Definitions.Chain(tag, 2));
        await api.WaitForStatusAsync(id, "Completed");

        var file = Path.Combine(logDirectory, "llm-orchestrator.log");
        var lines = await WaitForLinesAsync(() => File.Exists(file) ? ReadShared(file) : [], id, "s2");
        var events = lines.Select(ParseLine).ToList();
        AssertStepLines(events, id, traceId);
        Assert.Contains(events, e => e["SourceContext"]?.GetValue<string>() == "Microsoft.Hosting.Lifetime");
    }

    private static void AssertStepLines(List<JsonObject> events, string runId, string traceId)
    {
        var completed = events
            .Where(e => e["EventId"]?["Name"]?.GetValue<string>() == "StepCompleted" && e["RunId"]?.GetValue<string>() == runId)
            .ToList();
        Assert.Equal(["s1", "s2"], completed.Select(e => e["StepId"]!.GetValue<string>()).Order());
        Assert.All(completed, e =>
        {
            Assert.Equal(traceId, e["@tr"]?.GetValue<string>());
            Assert.Equal("Information", e["@l"]?.GetValue<string>());
            Assert.Equal(0, e["Iteration"]?.GetValue<int>());
        });

        // Another library's lines logged inside the activity carry the ids as fields too (from the logging scope).
        var scoped = events
            .Where(e => e["SourceContext"]?.GetValue<string>().StartsWith("Npgsql", StringComparison.Ordinal) == true && e["RunId"]?.GetValue<string>() == runId)
            .ToList();
        Assert.Contains(scoped, e => e["StepId"]?.GetValue<string>() == "s1");
        Assert.All(scoped, e => Assert.Equal(traceId, e["@tr"]?.GetValue<string>()));
    }

    private async Task<(string TraceId, string SpanId, string RunId)> StartTracedAsync(JsonObject definition)
    {
        var traceId = ActivityTraceId.CreateRandom().ToHexString();
        var spanId = ActivitySpanId.CreateRandom().ToHexString();
        var body = new JsonObject { ["definition"] = definition, ["input"] = new JsonObject { ["text"] = "trace me" } };
        using var request = new HttpRequestMessage(HttpMethod.Post, "/api/v1/workflows")
        {
            Content = new StringContent(body.ToJsonString(), Encoding.UTF8, "application/json"),
        };
        request.Headers.Add("traceparent", $"00-{traceId}-{spanId}-01");
        using var response = await api.Http.SendAsync(request);
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.Accepted, $"start answered {response.StatusCode}: {text}");
        return (traceId, spanId, JsonNode.Parse(text)!["id"]!.GetValue<string>());
    }

    private static (string TraceId, string SpanId) ParseTraceParent(string? header)
    {
        Assert.False(string.IsNullOrEmpty(header), "an LLM request came without a traceparent header");
        var parts = header!.Split('-');
        Assert.True(parts.Length == 4 && parts[0] == "00", $"not a W3C traceparent: {header}");
        return (parts[1], parts[2]);
    }

    private static JsonObject ParseLine(string line)
    {
        try
        {
            return JsonNode.Parse(line) as JsonObject ?? throw new JsonException("not an object");
        }
        catch (JsonException ex)
        {
            throw new Xunit.Sdk.XunitException($"a log line is not a JSON object ({ex.Message}): {line}");
        }
    }

    /// <summary>Log lines are written as they happen; waits until the run's last step has logged its completion.</summary>
    private static async Task<List<string>> WaitForLinesAsync(Func<List<string>> read, string runId, string lastStep)
    {
        var deadline = DateTimeOffset.UtcNow + TimeSpan.FromSeconds(15);
        while (true)
        {
            var lines = read();
            if (lines.Any(l => l.Contains(runId, StringComparison.Ordinal) && l.Contains("\"StepCompleted\"", StringComparison.Ordinal) && l.Contains($"\"StepId\":\"{lastStep}\"", StringComparison.Ordinal))
                || DateTimeOffset.UtcNow > deadline)
            {
                return lines;
            }

            await Task.Delay(100);
        }
    }

    private static List<string> ReadShared(string path)
    {
        using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete);
        using var reader = new StreamReader(stream);
        var lines = new List<string>();
        while (reader.ReadLine() is { } line)
        {
            if (line.Length > 0)
            {
                lines.Add(line);
            }
        }

        return lines;
    }
}
