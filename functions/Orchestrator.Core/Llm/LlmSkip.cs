namespace Orchestrator.Core.Llm;

/// <summary>A provider of a step's chain that did not serve it, and why (breaker open, rate-limited, failed transiently).</summary>
public sealed record LlmSkip(string Provider, string Model, string Reason);
