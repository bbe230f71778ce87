using System.Text.Json;
using System.Text.Json.Nodes;
using Json.Schema;

namespace Orchestrator.Core.Definitions;

/// <summary>Evaluates JSON Schemas and reports each failure with a readable path.</summary>
public static class SchemaErrors
{
    private static readonly EvaluationOptions Hierarchical = new() { OutputFormat = OutputFormat.Hierarchical };

    public static IReadOnlyList<DefinitionError> Evaluate(JsonSchema schema, JsonNode? instance, string root)
    {
        using var document = JsonDocument.Parse(instance?.ToJsonString() ?? "null");
        var results = schema.Evaluate(document.RootElement, Hierarchical);
        if (results.IsValid)
        {
            return [];
        }

        var report = new Report(schema, instance, root);
        report.FindMistyped(results);
        report.Walk(results);
        if (report.Errors.Count == 0)
        {
            report.Add(root, "does not match its schema");
        }

        return report.Errors;
    }

    /// <summary>
    /// Walks the evaluation tree and reports only the failures that make the instance invalid: not those inside an
    /// <c>if</c> (a false condition is no error), nor those of the other branches of a <c>oneOf</c>/<c>anyOf</c> that holds.
    /// </summary>
    private sealed class Report(JsonSchema schema, JsonNode? instance, string root)
    {
        private readonly HashSet<string> seen = new(StringComparer.Ordinal);
        private readonly HashSet<string> mistyped = new(StringComparer.Ordinal);
        private int reported;

        public List<DefinitionError> Errors { get; } = [];

        public void Add(string path, string message)
        {
            reported++;
            if (seen.Add(path + "\n" + message))
            {
                Errors.Add(new DefinitionError(path, message));
            }
        }

        /// <summary>Where a value has the wrong type, which is all there is to say about it.</summary>
        public void FindMistyped(EvaluationResults node)
        {
            if (node.IsValid)
            {
                return;
            }

            if (node.Errors?.ContainsKey("type") == true)
            {
                mistyped.Add(node.InstanceLocation.ToString());
            }

            foreach (var child in node.Details ?? [])
            {
                if (Keyword(node, child) is not ("if" or "not"))
                {
                    FindMistyped(child);
                }
            }
        }

        public void Walk(EvaluationResults node)
        {
            if (node.IsValid)
            {
                return;
            }

            var before = reported;
            var pointer = node.InstanceLocation.ToString();
            var path = JsonPaths.FromPointer(pointer, root, instance);
            var errors = node.Errors ?? new Dictionary<string, string>();

            // The other keywords that fail on a value of the wrong type (an object's 'required' checked against a
            // string, say) only add noise next to "should be object".
            var quiet = mistyped.Contains(pointer);
            if (errors.TryGetValue("type", out var wrongType))
            {
                Add(path, wrongType);
            }
            else if (!quiet)
            {
                foreach (var (keyword, message) in errors)
                {
                    Describe(node, keyword, message, pointer, path);
                }
            }

            var children = (node.Details ?? []).Select(c => (Node: c, Keyword: Keyword(node, c))).ToList();
            foreach (var (child, keyword) in children)
            {
                if (keyword is not ("if" or "not" or "oneOf" or "anyOf"))
                {
                    Walk(child);
                }
            }

            if (!quiet)
            {
                foreach (var alternatives in children.Where(c => c.Keyword is "oneOf" or "anyOf").GroupBy(c => c.Keyword))
                {
                    Alternatives(alternatives.Key!, alternatives.Select(c => c.Node).ToList(), path);
                }
            }

            if (reported == before && !quiet)
            {
                Add(path, "does not match its schema");
            }
        }

        private void Describe(EvaluationResults node, string keyword, string message, string pointer, string path)
        {
            if (keyword == "required" && RequiredNames(message) is { } missing)
            {
                foreach (var name in missing)
                {
                    // At the object that lacks it; the document itself has no path, so there the property is named instead.
                    if (path.Length > 0)
                    {
                        Add(path, $"missing required property '{name}'");
                    }
                    else
                    {
                        Add(JsonPaths.Child(path, name), "is required");
                    }
                }
            }
            else if (keyword is "" or "false" || message.Contains("false schema", StringComparison.OrdinalIgnoreCase))
            {
                Add(path, $"unknown property '{JsonPaths.Segments(pointer).LastOrDefault()}'");
            }
            else if (keyword == "enum" && SchemaAt(node)?.TryGetProperty("enum", out var values) == true && values.ValueKind == JsonValueKind.Array)
            {
                var allowed = values.EnumerateArray().Select(v => v.ValueKind == JsonValueKind.String ? v.GetString()! : v.GetRawText()).ToList();
                var hint = InstanceAt(pointer) is JsonValue value && value.GetValueKind() == JsonValueKind.String
                    ? Suggestions.Hint(value.GetValue<string>(), allowed)
                    : string.Empty;
                Add(path, $"must be one of: {string.Join(", ", allowed)}{hint}");
            }
            else if (keyword == "pattern" && SchemaAt(node)?.TryGetProperty("pattern", out var pattern) == true
                && InstanceAt(pointer) is JsonValue text && text.GetValueKind() == JsonValueKind.String)
            {
                Add(path, $"'{text.GetValue<string>()}' does not match {pattern.GetString()}");
            }
            else if (keyword is not ("allOf" or "anyOf" or "oneOf" or "if" or "then" or "else" or "$ref"))
            {
                Add(path, message);
            }
        }

        /// <summary>A oneOf holds with exactly one passing branch, an anyOf with at least one.</summary>
        private void Alternatives(string keyword, List<EvaluationResults> branches, string path)
        {
            var passing = branches.Count(b => b.IsValid);
            if (keyword == "anyOf" ? passing > 0 : passing == 1)
            {
                return;
            }

            // The common case, {"oneOf": [{"required": ["a"]}, {"required": ["b"]}]}, reads best as the property names.
            var names = branches.Select(RequiredOnly).ToList();
            if (names.TrueForAll(n => n is not null))
            {
                var choices = string.Join(" or ", names.Select(n => string.Join(" and ", n!.Select(p => $"'{p}'"))));
                Add(path, passing == 0 ? $"needs {choices}" : $"must have only one of {choices}");
            }
            else if (passing == 0)
            {
                foreach (var branch in branches)
                {
                    Walk(branch);
                }
            }
            else
            {
                Add(path, $"matches {passing} of the alternatives where exactly one must match");
            }
        }

        /// <summary>The properties a branch requires when requiring them is all it does.</summary>
        private List<string>? RequiredOnly(EvaluationResults branch)
        {
            if (SchemaAt(branch) is not { ValueKind: JsonValueKind.Object } subschema
                || subschema.EnumerateObject().Count() != 1
                || !subschema.TryGetProperty("required", out var required)
                || required.ValueKind != JsonValueKind.Array)
            {
                return null;
            }

            var names = required.EnumerateArray().Where(n => n.ValueKind == JsonValueKind.String).Select(n => n.GetString()!).ToList();
            return names.Count > 0 ? names : null;
        }

        /// <summary>The subschema an evaluation node ran, when it lives in the schema's own document.</summary>
        private JsonElement? SchemaAt(EvaluationResults node)
        {
            var location = node.SchemaLocation;
            if (location is null || schema.BaseUri is null
                || !string.Equals(location.GetLeftPart(UriPartial.Query), schema.BaseUri.GetLeftPart(UriPartial.Query), StringComparison.Ordinal))
            {
                return null;
            }

            var current = schema.Root.Source;
            foreach (var segment in JsonPaths.Segments(Uri.UnescapeDataString(location.Fragment.TrimStart('#'))))
            {
                if (current.ValueKind == JsonValueKind.Object && current.TryGetProperty(segment, out var property))
                {
                    current = property;
                }
                else if (current.ValueKind == JsonValueKind.Array && int.TryParse(segment, out var index) && index >= 0 && index < current.GetArrayLength())
                {
                    current = current[index];
                }
                else
                {
                    return null;
                }
            }

            return current;
        }

        private JsonNode? InstanceAt(string pointer)
        {
            var current = instance;
            foreach (var segment in JsonPaths.Segments(pointer))
            {
                current = current switch
                {
                    JsonObject obj when obj.TryGetPropertyValue(segment, out var child) => child,
                    JsonArray array when int.TryParse(segment, out var index) && index >= 0 && index < array.Count => array[index],
                    _ => null,
                };
            }

            return current;
        }

        /// <summary>The names in "Required properties ["a","b"] are not present".</summary>
        private static List<string>? RequiredNames(string message)
        {
            var start = message.IndexOf('[', StringComparison.Ordinal);
            var end = message.LastIndexOf(']');
            if (start < 0 || end <= start)
            {
                return null;
            }

            try
            {
                return JsonSerializer.Deserialize<List<string>>(message[start..(end + 1)]);
            }
            catch (JsonException)
            {
                return null;
            }
        }

        /// <summary>
        /// The applicator that produced <paramref name="child"/> when it is one whose failures need judging as a whole:
        /// <c>if</c> or <c>not</c> (<c>.../if</c>), or a <c>oneOf</c>/<c>anyOf</c> branch (<c>.../oneOf/1</c>).
        /// </summary>
        private static string? Keyword(EvaluationResults parent, EvaluationResults child)
        {
            var relative = JsonPaths.Segments(child.EvaluationPath.ToString())
                .Skip(JsonPaths.Segments(parent.EvaluationPath.ToString()).Count())
                .ToList();
            return relative switch
            {
                [var keyword] when keyword is "if" or "not" => keyword,
                [var keyword, var index] when keyword is "oneOf" or "anyOf" && int.TryParse(index, out _) => keyword,
                _ => null,
            };
        }
    }
}
