using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;

namespace Orchestrator.Core.Tests.Fakes;

/// <summary>
/// An OpenAI chat-completions endpoint over real HTTP on loopback that counts the requests it receives and answers
/// each only when <see cref="Release"/> is called (or at once, when not held), so a test controls how long a call runs.
/// </summary>
public sealed class OpenAiStub : IAsyncDisposable
{
    private readonly WebApplication app;
    private readonly TaskCompletionSource gate = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private int requests;

    private OpenAiStub(WebApplication app, bool held)
    {
        this.app = app;
        if (!held)
        {
            gate.SetResult();
        }
    }

    public string BaseUrl { get; private set; } = "";

    public int Requests => Volatile.Read(ref requests);

    public static async Task<OpenAiStub> StartAsync(bool held = false)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        builder.Logging.ClearProviders();
        var app = builder.Build();
        var stub = new OpenAiStub(app, held);
        app.MapPost("/v1/chat/completions", stub.HandleAsync);
        await app.StartAsync();
        stub.BaseUrl = app.Urls.First() + "/v1";
        return stub;
    }

    /// <summary>Answers every held request, and every later one at once.</summary>
    public void Release() => gate.TrySetResult();

    public async Task WaitForRequestsAsync(int count)
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        while (Requests < count)
        {
            await Task.Delay(20, timeout.Token);
        }
    }

    public async ValueTask DisposeAsync()
    {
        gate.TrySetResult();
        await app.StopAsync();
        await app.DisposeAsync();
    }

    private async Task HandleAsync(HttpContext context)
    {
        Interlocked.Increment(ref requests);
        var body = await JsonNode.ParseAsync(context.Request.Body);
        await gate.Task.WaitAsync(context.RequestAborted);
        await context.Response.WriteAsJsonAsync(new
        {
            id = "chatcmpl-stub",
            @object = "chat.completion",
            created = 0,
            model = body?["model"]?.GetValue<string>() ?? "stub",
            choices = new[] { new { index = 0, message = new { role = "assistant", content = "stub answer" }, finish_reason = "stop" } },
            usage = new { prompt_tokens = 7, completion_tokens = 3, total_tokens = 10 },
        });
    }
}
