using System.Text.Json;
using System.Text.Json.Nodes;
using Orchestrator.Core.Templates;

namespace Orchestrator.Core.Definitions;

/// <summary>A definition's <c>output</c>: a template string, or JSON whose strings are templates.</summary>
public static class OutputTemplates
{
    public static IEnumerable<(string Template, string Path)> Strings(JsonNode? node, string path)
    {
        switch (node)
        {
            case JsonObject obj:
                foreach (var (key, value) in obj)
                {
                    foreach (var s in Strings(value, JsonPaths.Child(path, key)))
                    {
                        yield return s;
                    }
                }

                break;
            case JsonArray array:
                for (var i = 0; i < array.Count; i++)
                {
                    foreach (var s in Strings(array[i], JsonPaths.Index(path, i)))
                    {
                        yield return s;
                    }
                }

                break;
            case JsonValue value when value.GetValueKind() == JsonValueKind.String:
                yield return (value.GetValue<string>(), path);
                break;
        }
    }

    /// <summary>Renders every string in <paramref name="node"/>; a string that is exactly one <c>{{ expr }}</c> keeps the value's JSON type.</summary>
    public static JsonNode? Render(JsonNode? node, TemplateModel model)
    {
        switch (node)
        {
            case JsonObject obj:
                var result = new JsonObject();
                foreach (var (key, value) in obj)
                {
                    result[key] = Render(value, model);
                }

                return result;
            case JsonArray array:
                return new JsonArray(array.Select(item => Render(item, model)).ToArray());
            case JsonValue value when value.GetValueKind() == JsonValueKind.String:
                var text = value.GetValue<string>();
                var trimmed = text.Trim();
                if (trimmed.StartsWith("{{", StringComparison.Ordinal) && trimmed.EndsWith("}}", StringComparison.Ordinal)
                    && trimmed.IndexOf("{{", 2, StringComparison.Ordinal) < 0 && !trimmed.Contains('|', StringComparison.Ordinal))
                {
                    return TemplateEngine.EvaluateValue(trimmed[2..^2].Trim(), model);
                }

                return JsonValue.Create(TemplateEngine.Render(text, model));
            default:
                return node?.DeepClone();
        }
    }
}
