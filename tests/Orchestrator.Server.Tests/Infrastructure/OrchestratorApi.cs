using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json.Nodes;

namespace Orchestrator.Server.Tests.Infrastructure;

/// <summary>A thin client of the Server's HTTP API for tests; it sends the test API key unless told another token (or none).</summary>
public sealed class OrchestratorApi : IDisposable
{
    private readonly HttpClient http;

    public OrchestratorApi(Uri baseAddress, string? token = TestEnvironment.ApiKey)
    {
        http = new HttpClient { BaseAddress = baseAddress, Timeout = TimeSpan.FromSeconds(30) };
        if (token is not null)
        {
            http.DefaultRequestHeaders.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", token);
        }
    }

    public HttpClient Http => http;

    public async Task<(HttpStatusCode Status, JsonNode? Body, HttpResponseMessage Response)> PostAsync(string path, JsonNode? body)
    {
        using var content = new StringContent(body?.ToJsonString() ?? "", Encoding.UTF8, "application/json");
        return await SendAsync(HttpMethod.Post, path, content);
    }

    public async Task<(HttpStatusCode Status, JsonNode? Body, HttpResponseMessage Response)> PostRawAsync(string path, string body)
    {
        using var content = new StringContent(body, Encoding.UTF8, "application/json");
        return await SendAsync(HttpMethod.Post, path, content);
    }

    public Task<(HttpStatusCode Status, JsonNode? Body, HttpResponseMessage Response)> GetAsync(string path) => SendAsync(HttpMethod.Get, path, null);

    public Task<string> StartAsync(string definition, JsonNode input) => StartAsync(JsonValue.Create(definition)!, input);

    public async Task<string> StartAsync(JsonNode definition, JsonNode input)
    {
        var (status, body, _) = await PostAsync("/api/v1/workflows", new JsonObject { ["definition"] = definition, ["input"] = input });
        Assert.True(status == HttpStatusCode.Accepted, $"start answered {status}: {body}");
        return body!["id"]!.GetValue<string>();
    }

    public async Task<JsonNode> GetRunAsync(string id)
    {
        var (status, body, _) = await GetAsync($"/api/v1/workflows/{id}");
        Assert.True(status == HttpStatusCode.OK, $"GET answered {status}: {body}");
        return body!;
    }

    public async Task<JsonNode> WaitForStatusAsync(string id, string status, TimeSpan? timeout = null)
    {
        var deadline = DateTimeOffset.UtcNow + (timeout ?? TimeSpan.FromSeconds(90));
        JsonNode? last = null;
        while (DateTimeOffset.UtcNow < deadline)
        {
            last = await GetRunAsync(id);
            var current = last["status"]!.GetValue<string>();
            if (current == status)
            {
                return last;
            }

            if (current is "Completed" or "Failed" or "Cancelled")
            {
                Assert.Fail($"run {id} ended {current}, expected {status}: {last}");
            }

            await Task.Delay(200);
        }

        throw new TimeoutException($"run {id} did not reach {status}: {last}");
    }

    /// <summary>Waits until the run waits for an event (its approval step is recorded as Waiting); returns the run.</summary>
    public async Task<JsonNode> WaitForWaitingAsync(string id, TimeSpan? timeout = null)
    {
        var deadline = DateTimeOffset.UtcNow + (timeout ?? TimeSpan.FromSeconds(60));
        while (DateTimeOffset.UtcNow < deadline)
        {
            var run = await GetRunAsync(id);
            if (run["waitingFor"]!.AsArray().Count > 0)
            {
                return run;
            }

            Assert.Contains(run["status"]!.GetValue<string>(), new[] { "Pending", "Running" });
            await Task.Delay(200);
        }

        throw new TimeoutException($"run {id} never started waiting");
    }

    public void Dispose() => http.Dispose();

    private async Task<(HttpStatusCode, JsonNode?, HttpResponseMessage)> SendAsync(HttpMethod method, string path, HttpContent? content)
    {
        using var request = new HttpRequestMessage(method, path) { Content = content };
        var response = await http.SendAsync(request);
        var text = await response.Content.ReadAsStringAsync();
        JsonNode? body = null;
        if (text.Length > 0)
        {
            try
            {
                body = JsonNode.Parse(text);
            }
            catch (System.Text.Json.JsonException)
            {
                body = JsonValue.Create(text);
            }
        }

        return (response.StatusCode, body, response);
    }
}
