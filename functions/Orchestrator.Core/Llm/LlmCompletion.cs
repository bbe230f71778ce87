namespace Orchestrator.Core.Llm;

/// <summary>What a provider answered, with what it cost.</summary>
public sealed record LlmCompletion(string Text, int InputTokens, int OutputTokens, decimal CostUsd, string Provider, string Model);
