namespace Orchestrator.Core.Llm;

/// <summary>A named provider a step can select with <c>provider:</c> (e.g. a cheaper model, a local Ollama).</summary>
public sealed class LlmProviderOptions
{
    /// <summary><c>openai</c> (any OpenAI-compatible endpoint) or <c>simulated</c>.</summary>
    public string Kind { get; set; } = LlmOptions.OpenAi;

    public string? Endpoint { get; set; }

    public string? ApiKey { get; set; }

    public string? Model { get; set; }
}
