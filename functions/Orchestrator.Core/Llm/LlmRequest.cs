namespace Orchestrator.Core.Llm;

/// <summary>
/// One chat completion to make. <see cref="Conversation"/> carries earlier turns (a structured-output repair
/// sends the invalid reply back with the validation error); <see cref="JsonSchema"/> asks for JSON of that shape.
/// </summary>
public sealed record LlmRequest(string Prompt, string? System, string? Model, int? MaxTokens, double? Temperature)
{
    public IReadOnlyList<(string Role, string Text)> Conversation { get; init; } = [];

    public string? JsonSchema { get; init; }

    /// <summary>A provider named in <c>Llm:Providers</c>; null for the default one.</summary>
    public string? Provider { get; init; }
}
