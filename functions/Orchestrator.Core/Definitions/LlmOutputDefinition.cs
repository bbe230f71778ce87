using System.Text.Json.Nodes;

namespace Orchestrator.Core.Definitions;

/// <summary>What an LLM step's reply must be: JSON that satisfies a schema (the provider is asked for exactly that).</summary>
public sealed record LlmOutputDefinition
{
    public required JsonObject Schema { get; init; }

    /// <summary>How many times an invalid reply is sent back with the validation error before the step fails (default: <c>Llm:StructuredOutputRepairs</c>).</summary>
    public int? MaxRepairs { get; init; }
}
