using System.Text.Json.Serialization;

namespace Orchestrator.Core.Definitions;

/// <summary>One step of a workflow; the <c>type</c> property selects the concrete kind.</summary>
[JsonPolymorphic(TypeDiscriminatorPropertyName = "type")]
[JsonDerivedType(typeof(LlmStepDefinition), StepTypes.Llm)]
public abstract record StepDefinition
{
    public required string Id { get; init; }

    /// <summary>Liquid condition; when it renders false the step is recorded as Skipped.</summary>
    public string? When { get; init; }

    public string? Timeout { get; init; }

    public RetryDefinition? Retry { get; init; }

    [JsonIgnore]
    public abstract string Type { get; }
}
