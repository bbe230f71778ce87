using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.Json.Serialization;

namespace Orchestrator.Core.Definitions;

/// <summary>The one JSON shape of definitions, shared by the API, the registry and the orchestrator.</summary>
public static class DefinitionJson
{
    public static readonly JsonSerializerOptions Options = new(JsonSerializerDefaults.Web)
    {
        AllowOutOfOrderMetadataProperties = true,
        DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
        WriteIndented = false,
    };

    public static WorkflowDefinition Deserialize(JsonNode node) =>
        node.Deserialize<WorkflowDefinition>(Options) ?? throw new JsonException("The definition is null.");

    public static WorkflowDefinition Deserialize(string json) =>
        JsonSerializer.Deserialize<WorkflowDefinition>(json, Options) ?? throw new JsonException("The definition is null.");

    public static string Serialize(WorkflowDefinition definition) => JsonSerializer.Serialize(definition, Options);
}
