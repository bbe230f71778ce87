namespace Orchestrator.Core.Llm;

/// <summary>One chat completion to make.</summary>
public sealed record LlmRequest(string Prompt, string? System, string? Model, int? MaxTokens, double? Temperature);
