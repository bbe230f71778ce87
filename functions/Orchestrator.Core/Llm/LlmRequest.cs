using Orchestrator.Core.Definitions;

namespace Orchestrator.Core.Llm;

/// <summary>One chat-completions call: the rendered prompt and the step's model settings.</summary>
public sealed record LlmRequest(string Prompt, string? System, string? Model, int? MaxTokens, double? Temperature)
{
    public IReadOnlyList<(string Role, string Text)> Conversation { get; init; } = [];

    public string? JsonSchema { get; init; }

    /// <summary>A single provider by name (<c>default</c> when neither this nor <see cref="Route"/> is set).</summary>
    public string? Provider { get; init; }

    /// <summary>The step's provider chain, tried in order; overrides <see cref="Provider"/>.</summary>
    public IReadOnlyList<ProviderChoice>? Route { get; init; }
}
