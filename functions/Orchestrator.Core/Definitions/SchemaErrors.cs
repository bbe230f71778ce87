using System.Text.Json;
using System.Text.Json.Nodes;
using Json.Schema;

namespace Orchestrator.Core.Definitions;

/// <summary>Evaluates JSON Schemas and reports each failure with a readable path.</summary>
public static class SchemaErrors
{
    private static readonly EvaluationOptions ListOutput = new() { OutputFormat = OutputFormat.List };

    public static IReadOnlyList<DefinitionError> Evaluate(JsonSchema schema, JsonNode? instance, string root)
    {
        using var document = JsonDocument.Parse(instance?.ToJsonString() ?? "null");
        var results = schema.Evaluate(document.RootElement, ListOutput);
        if (results.IsValid)
        {
            return [];
        }

        var errors = new List<DefinitionError>();
        var seen = new HashSet<string>(StringComparer.Ordinal);
        foreach (var detail in results.Details ?? [])
        {
            if (detail.IsValid || detail.Errors is null)
            {
                continue;
            }

            foreach (var (keyword, message) in detail.Errors)
            {
                // An if/then chain reports its own failure on top of the real one; the real one is enough.
                if (keyword is "allOf" or "anyOf" or "if" or "then" or "$ref")
                {
                    continue;
                }

                var path = JsonPaths.FromPointer(detail.InstanceLocation.ToString(), root);
                var text = Describe(keyword, message, detail);
                if (seen.Add(path + "\n" + text))
                {
                    errors.Add(new DefinitionError(path, text));
                }
            }
        }

        if (errors.Count == 0)
        {
            errors.Add(new DefinitionError(root, "does not match its schema"));
        }

        return errors;
    }

    private static string Describe(string keyword, string message, EvaluationResults detail)
    {
        if (keyword == "false" || message.Contains("false schema", StringComparison.OrdinalIgnoreCase))
        {
            var location = detail.InstanceLocation.ToString();
            var name = location[(location.LastIndexOf('/') + 1)..];
            return $"unknown property '{name}'";
        }

        return message;
    }
}
