using System.Text.Json.Serialization;

namespace Orchestrator.Core.Definitions;

/// <summary>One step of a workflow; the <c>type</c> property selects the concrete kind.</summary>
[JsonPolymorphic(TypeDiscriminatorPropertyName = "type")]
[JsonDerivedType(typeof(LlmStepDefinition), StepTypes.Llm)]
[JsonDerivedType(typeof(MapStepDefinition), StepTypes.Map)]
[JsonDerivedType(typeof(ApprovalStepDefinition), StepTypes.Approval)]
[JsonDerivedType(typeof(TransformStepDefinition), StepTypes.Transform)]
public abstract record StepDefinition
{
    /// <summary>Unique among its siblings; a map's single nested step may omit it (it is then <c>item</c>).</summary>
    public string Id { get; init; } = string.Empty;

    /// <summary>Liquid condition; when it renders false the step is recorded as Skipped.</summary>
    public string? When { get; init; }

    public string? Timeout { get; init; }

    public RetryDefinition? Retry { get; init; }

    [JsonIgnore]
    public abstract string Type { get; }
}
