using System.Text.Json.Nodes;
using System.Text.Json.Serialization;

namespace Orchestrator.Core.Definitions;

/// <summary>Computes a value without calling an LLM: a template (text) or JSON whose strings are templates.</summary>
public sealed record TransformStepDefinition : StepDefinition
{
    public string? Template { get; init; }

    public JsonNode? Value { get; init; }

    [JsonIgnore]
    public override string Type => StepTypes.Transform;
}
