namespace Orchestrator.Core.Llm;

/// <summary>How structured output is requested from the provider.</summary>
public enum StructuredOutputMode
{
    JsonSchema,
    JsonObject,
    None,
}
