using System.Security.Cryptography;
using System.Text;
using Microsoft.Extensions.AI;

namespace Orchestrator.Core.Llm;

/// <summary>
/// The provider used when no endpoint is configured: deterministic text derived from the prompt after a
/// configurable delay, so a workflow can be run and watched without an LLM. Never mistaken for a real answer:
/// every step it serves is recorded with provider <c>simulated</c>.
/// </summary>
public sealed class SimulatedChatClient(TimeSpan latency, TimeProvider timeProvider) : IChatClient
{
    public async Task<ChatResponse> GetResponseAsync(IEnumerable<ChatMessage> messages, ChatOptions? options = null, CancellationToken cancellationToken = default)
    {
        var prompt = messages.LastOrDefault(m => m.Role == ChatRole.User)?.Text ?? string.Empty;
        if (latency > TimeSpan.Zero)
        {
            await Task.Delay(latency, timeProvider, cancellationToken);
        }

        var digest = Convert.ToHexString(SHA256.HashData(Encoding.UTF8.GetBytes(prompt)))[..8].ToLowerInvariant();
        var words = prompt.Split((char[])[' ', '\n', '\r', '\t'], StringSplitOptions.RemoveEmptyEntries);
        var gist = string.Join(' ', words.Take(12));
        var text = options?.ResponseFormat is ChatResponseFormatJson { Schema: { } schema }
            ? SchemaSamples.Generate(schema, prompt)?.ToJsonString() ?? "null"
            : $"[simulated {digest}] {gist}";
        var response = new ChatResponse(new ChatMessage(ChatRole.Assistant, text))
        {
            ModelId = options?.ModelId ?? "simulated",
            Usage = new UsageDetails { InputTokenCount = words.Length, OutputTokenCount = text.Split(' ').Length },
        };
        return response;
    }

    public IAsyncEnumerable<ChatResponseUpdate> GetStreamingResponseAsync(IEnumerable<ChatMessage> messages, ChatOptions? options = null, CancellationToken cancellationToken = default) =>
        throw new NotSupportedException("The simulated provider does not stream.");

    public object? GetService(Type serviceType, object? serviceKey = null) => serviceType.IsInstanceOfType(this) ? this : null;

    public void Dispose() { }
}
