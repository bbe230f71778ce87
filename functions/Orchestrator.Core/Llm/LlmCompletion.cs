namespace Orchestrator.Core.Llm;

/// <summary>A reply, what it cost, which provider and model served it, and the providers of the chain skipped before it.</summary>
public sealed record LlmCompletion(string Text, int InputTokens, int OutputTokens, decimal CostUsd, string Provider, string Model)
{
    public IReadOnlyList<LlmSkip> Skipped { get; init; } = [];
}
