using System.Text.Json;
using System.Text.Json.Nodes;
using Orchestrator.Core.Definitions;

namespace Orchestrator.Core.Llm;

/// <summary>Checks a model's reply against a step's output schema, tolerating a Markdown code fence around the JSON.</summary>
public static class StructuredReplies
{
    /// <summary>The reply as JSON when it satisfies <paramref name="schema"/>; otherwise the problems, one per line.</summary>
    public static (JsonNode? Value, string? Problems) Check(string reply, string schema)
    {
        var text = reply.Trim();
        if (text.StartsWith("```", StringComparison.Ordinal))
        {
            var firstLine = text.IndexOf('\n', StringComparison.Ordinal);
            var fenceEnd = text.LastIndexOf("```", StringComparison.Ordinal);
            if (firstLine > 0 && fenceEnd > firstLine)
            {
                text = text[(firstLine + 1)..fenceEnd].Trim();
            }
        }

        JsonNode? value;
        try
        {
            value = JsonNode.Parse(text);
        }
        catch (JsonException ex)
        {
            return (null, $"the reply is not JSON: {ex.Message}");
        }

        var errors = SchemaErrors.Evaluate(InputSchemas.Build(JsonNode.Parse(schema)!.AsObject()), value, "$");
        return errors.Count == 0 ? (value, null) : (null, string.Join("\n", errors.Select(e => e.ToString())));
    }
}
