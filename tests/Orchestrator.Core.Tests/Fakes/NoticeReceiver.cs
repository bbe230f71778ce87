using System.Collections.Concurrent;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;

namespace Orchestrator.Core.Tests.Fakes;

/// <summary>
/// Stands in for Slack, Teams, PagerDuty and a webhook receiver: one real HTTP server on loopback that records every
/// request (path, headers, body) and answers as each service does when it takes a notice (<c>/slack…</c> 200 <c>ok</c>,
/// <c>/teams…</c> and <c>/pagerduty…</c> 202, anything else 200) — or as it is told: down (503), dropping the
/// connection, 429 with <c>Retry-After</c>, or a permanent refusal such as 410 <c>channel_is_archived</c>.
/// </summary>
public sealed class NoticeReceiver : IAsyncDisposable
{
    private readonly WebApplication app;
    private readonly ConcurrentQueue<ReceivedNotice> requests = new();
    private readonly Lock gate = new();
    private readonly List<Rule> rules = [];

    private NoticeReceiver(WebApplication app) => this.app = app;

    public string BaseUrl { get; private set; } = "";

    /// <summary>Every request, in arrival order, with the answer it got.</summary>
    public IReadOnlyList<ReceivedNotice> Requests => [.. requests];

    /// <summary>The requests to <paramref name="path"/> that were answered as delivered.</summary>
    public IReadOnlyList<ReceivedNotice> Delivered(string path) => [.. requests.Where(r => r.Path == path && r.Delivered)];

    public static async Task<NoticeReceiver> StartAsync()
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        builder.Logging.ClearProviders();
        var app = builder.Build();
        var receiver = new NoticeReceiver(app);
        app.Run(receiver.HandleAsync);
        await app.StartAsync();
        receiver.BaseUrl = app.Urls.First();
        return receiver;
    }

    /// <summary>The URL of <paramref name="path"/> on this receiver.</summary>
    public string Url(string path) => BaseUrl + path;

    /// <summary>Answers the next <paramref name="times"/> requests to <paramref name="path"/> (any path when null) with <paramref name="answer"/>.</summary>
    public void Answer(ReceiverAnswer answer, string? path = null, int times = int.MaxValue)
    {
        lock (gate)
        {
            rules.Add(new Rule(answer, path, times));
        }
    }

    /// <summary>Back to answering every request as delivered.</summary>
    public void Recover()
    {
        lock (gate)
        {
            rules.Clear();
        }
    }

    public async ValueTask DisposeAsync()
    {
        await app.StopAsync();
        await app.DisposeAsync();
    }

    private ReceiverAnswer? NextAnswer(string path)
    {
        lock (gate)
        {
            var rule = rules.FirstOrDefault(r => r.Remaining > 0 && (r.Path is null || r.Path == path));
            if (rule is null)
            {
                return null;
            }

            rule.Remaining--;
            return rule.Answer;
        }
    }

    private async Task HandleAsync(HttpContext context)
    {
        using var reader = new StreamReader(context.Request.Body);
        var body = await reader.ReadToEndAsync(context.RequestAborted);
        var path = context.Request.Path.Value ?? "";
        var headers = context.Request.Headers.ToDictionary(h => h.Key, h => h.Value.ToString(), StringComparer.OrdinalIgnoreCase);
        var answer = NextAnswer(path) ?? Success(path);
        requests.Enqueue(new ReceivedNotice(path, headers, body, answer.Drop ? 0 : answer.Status, answer.Delivered));
        if (answer.Drop)
        {
            context.Abort();
            return;
        }

        context.Response.StatusCode = answer.Status;
        if (answer.RetryAfter is not null)
        {
            context.Response.Headers.RetryAfter = answer.RetryAfter;
        }

        if (answer.Body is not null)
        {
            context.Response.ContentType = answer.Body.StartsWith('{') ? "application/json" : "text/plain";
            await context.Response.WriteAsync(answer.Body, context.RequestAborted);
        }
    }

    private static ReceiverAnswer Success(string path) =>
        path.StartsWith("/slack", StringComparison.Ordinal) ? new ReceiverAnswer(200, "ok", Delivered: true)
        : path.StartsWith("/pagerduty", StringComparison.Ordinal) ? new ReceiverAnswer(202, """{"status":"success","message":"Event processed"}""", Delivered: true)
        : path.StartsWith("/teams", StringComparison.Ordinal) ? new ReceiverAnswer(202, null, Delivered: true)
        : new ReceiverAnswer(200, "{}", Delivered: true);

    private sealed class Rule(ReceiverAnswer answer, string? path, int times)
    {
        public ReceiverAnswer Answer { get; } = answer;

        public string? Path { get; } = path;

        public int Remaining { get; set; } = times;
    }
}

/// <summary>One request the receiver got: its path, headers, body, and the status it answered (0 when it dropped the connection).</summary>
public sealed record ReceivedNotice(string Path, IReadOnlyDictionary<string, string> Headers, string Body, int Status, bool Delivered);

/// <summary>How the receiver answers: a status, a body, a <c>Retry-After</c>, or no answer at all (the connection dropped).</summary>
public sealed record ReceiverAnswer(int Status, string? Body, string? RetryAfter = null, bool Drop = false, bool Delivered = false)
{
    /// <summary>503, as a receiver that is down behind its load balancer.</summary>
    public static ReceiverAnswer Down { get; } = new(503, "service unavailable");

    /// <summary>The connection closes without an answer.</summary>
    public static ReceiverAnswer Dropped { get; } = new(0, null, Drop: true);

    public static ReceiverAnswer TooManyRequests(string retryAfter) => new(429, "rate_limited", retryAfter);

    public static ReceiverAnswer Refuse(int status, string body) => new(status, body);
}
