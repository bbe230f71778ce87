namespace Orchestrator.Core.Definitions;

/// <summary>One entry of a step's provider chain: a provider named under <c>Llm:Providers</c>, optionally with its own model.</summary>
public sealed record ProviderChoice(string Name, string? Model = null);
