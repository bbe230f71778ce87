using System.Text.Json.Nodes;

namespace Orchestrator.Core.Definitions;

/// <summary>A definition in the registry, with its canonical JSON (what a run copies) and where it came from.</summary>
public sealed record RegisteredDefinition(WorkflowDefinition Definition, string CanonicalJson, string Source)
{
    public JsonNode ToJson() => JsonNode.Parse(CanonicalJson)!;
}
