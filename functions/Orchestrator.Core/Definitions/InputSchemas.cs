using System.Collections.Concurrent;
using System.Text.Json.Nodes;
using Json.Schema;

namespace Orchestrator.Core.Definitions;

/// <summary>Builds (and caches) a definition's input schema and checks a start request's input against it.</summary>
public static class InputSchemas
{
    private static readonly ConcurrentDictionary<string, JsonSchema> Cache = new(StringComparer.Ordinal);

    public static JsonSchema Build(JsonObject schema)
    {
        var text = schema.ToJsonString();
        return Cache.GetOrAdd(text, static t => JsonSchema.FromText(t, new BuildOptions { SchemaRegistry = new SchemaRegistry() }));
    }

    public static IReadOnlyList<DefinitionError> Check(WorkflowDefinition definition, JsonNode? input)
    {
        if (definition.Input is null)
        {
            return [];
        }

        return SchemaErrors.Evaluate(Build(definition.Input), input, "input");
    }
}
