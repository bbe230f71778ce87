using System.Collections.Concurrent;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;

namespace Orchestrator.Server.Tests.Infrastructure;

/// <summary>
/// A real HTTP server speaking the OpenAI chat-completions wire format. It answers deterministically, counts
/// requests per prompt, and can be told to delay, hold or reject prompts that contain a marker.
/// </summary>
public sealed class FakeOpenAiServer : IAsyncDisposable
{
    private readonly WebApplication app;
    private readonly ConcurrentQueue<ReceivedRequest> received = new();
    private readonly ConcurrentDictionary<string, Rule> rules = new(StringComparer.Ordinal);

    private FakeOpenAiServer(WebApplication app) => this.app = app;

    private int inFlight;
    private int maxInFlight;

    public string BaseUrl { get; private set; } = "";

    /// <summary>The most requests that were being answered at the same time since the last <see cref="ResetConcurrency"/>.</summary>
    public int MaxConcurrency => Volatile.Read(ref maxInFlight);

    public void ResetConcurrency() => Volatile.Write(ref maxInFlight, 0);

    public IReadOnlyCollection<ReceivedRequest> Requests => received.ToArray();

    public static async Task<FakeOpenAiServer> StartAsync()
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        builder.Logging.ClearProviders();
        var app = builder.Build();
        var fake = new FakeOpenAiServer(app);
        app.MapPost("/v1/chat/completions", fake.HandleAsync);
        // Azure OpenAI's v1 API: the same wire format under /openai/v1, authenticated with an api-key header.
        app.MapPost("/openai/v1/chat/completions", fake.HandleAsync);
        await app.StartAsync();
        fake.BaseUrl = app.Urls.First() + "/v1";
        return fake;
    }

    /// <summary>Requests whose user prompt contains <paramref name="marker"/>.</summary>
    public int CountContaining(string marker) => received.Count(r => r.Prompt.Contains(marker, StringComparison.Ordinal));

    public IReadOnlyList<ReceivedRequest> Containing(string marker) => received.Where(r => r.Prompt.Contains(marker, StringComparison.Ordinal)).ToList();

    /// <summary>Prompts containing <paramref name="marker"/> wait <paramref name="delay"/> before the answer.</summary>
    public void Delay(string marker, TimeSpan delay) => rules[marker] = new Rule(delay, null, null, null);

    /// <summary>Prompts containing <paramref name="marker"/> get an HTTP error with an OpenAI error body.</summary>
    public void Fail(string marker, int status, string message) => rules[marker] = new Rule(TimeSpan.Zero, status, message, null);

    /// <summary>As <see cref="Fail"/>, with a <c>Retry-After</c> header of <paramref name="retryAfter"/> whole seconds.</summary>
    public void Fail(string marker, int status, string message, int retryAfter) => rules[marker] = new Rule(TimeSpan.Zero, status, message, null) { RetryAfter = retryAfter };

    /// <summary>Every prompt fails with <paramref name="status"/> until <see cref="Heal"/>(<c>""</c>): a total outage of the provider.</summary>
    public void FailEverything(int status = 503) => Fail("", status, "provider outage");

    /// <summary>Prompts containing <paramref name="marker"/> are answered with finish reason <c>content_filter</c> (a refusal).</summary>
    public void Refuse(string marker) => rules[marker] = new Rule(TimeSpan.Zero, null, null, null) { ContentFilter = true };

    /// <summary>Prompts containing <paramref name="marker"/> are answered with these contents in turn (the last one repeats).</summary>
    public void Reply(string marker, params string[] contents) => Reply(marker, TimeSpan.Zero, contents);

    /// <summary>As <see cref="Reply(string, string[])"/>, each answer after <paramref name="delay"/>.</summary>
    public void Reply(string marker, TimeSpan delay, params string[] contents) =>
        rules[marker] = new Rule(delay, null, null, null, new ConcurrentQueue<string>(contents), contents[^1]);

    /// <summary>Prompts containing <paramref name="marker"/> wait until the returned gate is opened.</summary>
    public TaskCompletionSource Hold(string marker)
    {
        var gate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        rules[marker] = new Rule(TimeSpan.Zero, null, null, gate);
        return gate;
    }

    /// <summary>
    /// Prompts containing <paramref name="marker"/> are answered as if the reply used all the tokens the request may
    /// use: input about four characters a token (of every message), output its maximum (<c>max_completion_tokens</c>).
    /// </summary>
    public void SpendMaximum(string marker) => rules[marker] = new Rule(TimeSpan.Zero, null, null, null, SpendMaximum: true);

    public void Heal(string marker) => rules.TryRemove(marker, out _);

    /// <summary>The deterministic answer the fake gives to a prompt.</summary>
    public static string AnswerFor(string prompt) =>
        "answer-" + Convert.ToHexString(SHA256.HashData(Encoding.UTF8.GetBytes(prompt)))[..12].ToLowerInvariant();

    public async Task<ReceivedRequest> WaitForAsync(string marker, int count = 1, TimeSpan? timeout = null)
    {
        var deadline = DateTimeOffset.UtcNow + (timeout ?? TimeSpan.FromSeconds(60));
        while (DateTimeOffset.UtcNow < deadline)
        {
            var matches = Containing(marker);
            if (matches.Count >= count)
            {
                return matches[count - 1];
            }

            await Task.Delay(50);
        }

        throw new TimeoutException($"the fake LLM did not receive {count} request(s) containing '{marker}' in time; saw {CountContaining(marker)}");
    }

    public async ValueTask DisposeAsync()
    {
        foreach (var rule in rules.Values)
        {
            rule.Gate?.TrySetResult();
        }

        await app.StopAsync();
        await app.DisposeAsync();
    }

    private async Task HandleAsync(HttpContext context)
    {
        var body = await JsonNode.ParseAsync(context.Request.Body);
        var messages = body?["messages"]?.AsArray() ?? [];
        var prompt = messages.FirstOrDefault(m => m?["role"]?.GetValue<string>() == "user")?["content"] switch
        {
            JsonValue v => v.GetValue<string>(),
            JsonArray parts => string.Concat(parts.Select(p => p?["text"]?.GetValue<string>())),
            _ => "",
        };
        var model = body?["model"]?.GetValue<string>() ?? "unknown";
        var format = body?["response_format"];
        var last = messages.LastOrDefault()?["content"] is JsonValue lv ? lv.GetValue<string>() : prompt;
        var traceParent = context.Request.Headers.TryGetValue("traceparent", out var header) ? header.ToString() : null;
        var apiKey = context.Request.Headers.TryGetValue("api-key", out var key) ? key.ToString() : null;
        var authorization = context.Request.Headers.Authorization.ToString();
        received.Enqueue(new ReceivedRequest(prompt, model, DateTimeOffset.UtcNow, messages.Count, format?["type"]?.GetValue<string>(), last, traceParent)
        {
            Path = context.Request.Path,
            ApiKey = apiKey,
            Authorization = authorization.Length == 0 ? null : authorization,
        });

        var now = Interlocked.Increment(ref inFlight);
        try
        {
            int seen;
            while ((seen = Volatile.Read(ref maxInFlight)) < now && Interlocked.CompareExchange(ref maxInFlight, now, seen) != seen)
            {
            }

            await AnswerAsync(context, prompt, model, format, body);
        }
        finally
        {
            Interlocked.Decrement(ref inFlight);
        }
    }

    private async Task AnswerAsync(HttpContext context, string prompt, string model, JsonNode? format, JsonNode? body)
    {
        var rule = rules.Where(r => prompt.Contains(r.Key, StringComparison.Ordinal)).OrderByDescending(r => r.Key.Length).FirstOrDefault().Value;
        if (rule is not null)
        {
            if (rule.Gate is not null)
            {
                await rule.Gate.Task.WaitAsync(context.RequestAborted);
            }

            if (rule.Delay > TimeSpan.Zero)
            {
                await Task.Delay(rule.Delay, context.RequestAborted);
            }

            if (rule.Status is { } status)
            {
                context.Response.StatusCode = status;
                if (rule.RetryAfter is { } retryAfter)
                {
                    context.Response.Headers.RetryAfter = retryAfter.ToString(System.Globalization.CultureInfo.InvariantCulture);
                }

                await context.Response.WriteAsJsonAsync(new { error = new { message = rule.Message, type = "invalid_request_error", code = "fake_error" } });
                return;
            }
        }

        string answer;
        if (rule?.Replies is { } replies)
        {
            answer = replies.TryDequeue(out var next) ? next : rule.LastReply!;
        }
        else if (format?["json_schema"]?["schema"] is JsonNode schema)
        {
            using var schemaDocument = JsonDocument.Parse(schema.ToJsonString());
            answer = Orchestrator.Core.Llm.SchemaSamples.Generate(schemaDocument.RootElement, prompt)?.ToJsonString() ?? "null";
        }
        else
        {
            answer = AnswerFor(prompt);
        }

        var promptTokens = prompt.Split(' ', StringSplitOptions.RemoveEmptyEntries).Length;
        var completionTokens = 3;
        if (rule?.SpendMaximum is true)
        {
            var characters = (body?["messages"]?.AsArray() ?? []).Sum(m => m?["content"] switch
            {
                JsonValue v => v.GetValue<string>().Length,
                JsonArray parts => parts.Sum(p => p?["text"]?.GetValue<string>().Length ?? 0),
                _ => 0,
            });
            promptTokens = (characters + 3) / 4;
            completionTokens = (body?["max_completion_tokens"] ?? body?["max_tokens"])?.GetValue<int>() ?? completionTokens;
        }

        await context.Response.WriteAsJsonAsync(new
        {
            id = "chatcmpl-" + Guid.NewGuid().ToString("N")[..12],
            @object = "chat.completion",
            created = DateTimeOffset.UtcNow.ToUnixTimeSeconds(),
            model,
            choices = new[] { new { index = 0, message = new { role = "assistant", content = answer }, finish_reason = rule?.ContentFilter == true ? "content_filter" : "stop" } },
            usage = new { prompt_tokens = promptTokens, completion_tokens = completionTokens, total_tokens = promptTokens + completionTokens },
        });
    }

    private sealed record Rule(TimeSpan Delay, int? Status, string? Message, TaskCompletionSource? Gate, ConcurrentQueue<string>? Replies = null, string? LastReply = null, bool SpendMaximum = false)
    {
        public int? RetryAfter { get; init; }

        public bool ContentFilter { get; init; }
    }
}

/// <summary>
/// One request the fake LLM received: its first user prompt, how many messages, the response format asked for, the
/// last message, and the W3C <c>traceparent</c> header it came with.
/// </summary>
public sealed record ReceivedRequest(string Prompt, string Model, DateTimeOffset At, int MessageCount = 1, string? ResponseFormat = null, string? LastMessage = null, string? TraceParent = null)
{
    public string? Path { get; init; }

    /// <summary>The <c>api-key</c> header (Azure OpenAI's key authentication).</summary>
    public string? ApiKey { get; init; }

    public string? Authorization { get; init; }
}
