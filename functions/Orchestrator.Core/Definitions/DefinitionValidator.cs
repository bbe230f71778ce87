using System.Text.Json;
using System.Text.Json.Nodes;
using Json.Schema;
using Orchestrator.Core.Templates;

namespace Orchestrator.Core.Definitions;

/// <summary>
/// Checks a definition before anything is stored: its shape against the language's JSON Schema, then what a
/// schema cannot say (unique step ids, durations, templates that parse and only read variables that exist).
/// Reports every error at once, each with its path.
/// </summary>
public static class DefinitionValidator
{
    private static readonly Lazy<JsonSchema> Schema = new(LoadSchema);

    private static readonly string[] Roots = ["input", "steps", "run"];
    private static readonly string[] MapRoots = ["input", "steps", "run", "item", "index"];

    public static WorkflowDefinition Validate(JsonNode? node)
    {
        var errors = new List<DefinitionError>();
        var definition = TryValidate(node, errors);
        if (definition is null || errors.Count > 0)
        {
            throw new DefinitionValidationException(errors);
        }

        return definition;
    }

    public static WorkflowDefinition? TryValidate(JsonNode? node, List<DefinitionError> errors)
    {
        if (node is not JsonObject)
        {
            errors.Add(new DefinitionError("", "a definition must be a JSON object"));
            return null;
        }

        errors.AddRange(SchemaErrors.Evaluate(Schema.Value, node, ""));
        if (errors.Count > 0)
        {
            return null;
        }

        WorkflowDefinition definition;
        try
        {
            definition = DefinitionJson.Deserialize(node);
        }
        catch (JsonException ex)
        {
            errors.Add(new DefinitionError(JsonPaths.FromPointer((ex.Path ?? "$").TrimStart('$').Replace('.', '/')), Unreadable(ex)));
            return null;
        }

        CheckInputSchema(definition, errors);
        CheckDurations(definition, errors);
        CheckSteps(definition, errors);
        return definition;
    }

    /// <summary>
    /// JSON Schema calls 1.0 and 1e10 integers but the deserializer cannot read them into an int; say what is wrong
    /// without the CLR type names and reader positions of the serializer's message.
    /// </summary>
    private static string Unreadable(JsonException ex)
    {
        var message = ex.Message;
        if (message.Contains("System.Int32", StringComparison.Ordinal))
        {
            return $"must be a whole number written without a decimal point or exponent, at most {int.MaxValue}";
        }

        if (message.Contains("System.Int64", StringComparison.Ordinal))
        {
            return $"must be a whole number written without a decimal point or exponent, at most {long.MaxValue}";
        }

        if (message.Contains("System.Decimal", StringComparison.Ordinal))
        {
            return $"must be a number of at most {decimal.MaxValue}";
        }

        var end = message.IndexOf(" Path:", StringComparison.Ordinal);
        return end > 0 ? message[..end] : message;
    }

    private static void CheckInputSchema(WorkflowDefinition definition, List<DefinitionError> errors)
    {
        if (definition.Input is null)
        {
            return;
        }

        try
        {
            InputSchemas.Build(definition.Input);
        }
        catch (Exception ex) when (ex is JsonSchemaException or JsonException or ArgumentException or InvalidOperationException or KeyNotFoundException)
        {
            errors.Add(new DefinitionError("input", $"is not a valid JSON Schema: {ex.Message}"));
        }
    }

    private static void CheckDurations(WorkflowDefinition definition, List<DefinitionError> errors)
    {
        void Check(string? value, string path)
        {
            if (value is not null && !Durations.TryParse(value, out _))
            {
                errors.Add(new DefinitionError(path, $"'{value}' is not a positive duration (e.g. 30s, 5m, 24h)"));
            }
        }

        void CheckRetry(RetryDefinition? retry, string path)
        {
            if (retry is null)
            {
                return;
            }

            Check(retry.FirstInterval, $"{path}.firstInterval");
            Check(retry.MaxInterval, $"{path}.maxInterval");
            if (Durations.TryParse(retry.FirstInterval, out var first) && Durations.TryParse(retry.MaxInterval, out var max) && first > max)
            {
                // Reported at firstInterval: maxInterval may be the default, absent from the document.
                errors.Add(new DefinitionError($"{path}.firstInterval", $"'{retry.FirstInterval}' is longer than maxInterval '{retry.MaxInterval}'"));
            }
        }

        void CheckStep(StepDefinition step, string path)
        {
            Check(step.Timeout, $"{path}.timeout");
            CheckRetry(step.Retry, $"{path}.retry");
            if (step is MapStepDefinition map)
            {
                for (var j = 0; j < map.Body.Count; j++)
                {
                    CheckStep(map.Body[j], map.Steps is null ? $"{path}.step" : $"{path}.steps[{j}]");
                }
            }
        }

        Check(definition.Timeout, "timeout");
        Check(definition.Defaults?.Timeout, "defaults.timeout");
        CheckRetry(definition.Defaults?.Retry, "defaults.retry");
        for (var i = 0; i < definition.Steps.Count; i++)
        {
            CheckStep(definition.Steps[i], $"steps[{i}]");
        }
    }

    private static void CheckSteps(WorkflowDefinition definition, List<DefinitionError> errors)
    {
        var inputProperties = DeclaredInputProperties(definition.Input);
        var earlier = new HashSet<string>(StringComparer.Ordinal);
        CheckStepList(definition.Steps, "steps", earlier, definition.Steps.Select(s => s.Id).ToList(), inputProperties, enclosingMap: null, errors);

        if (definition.Output is not null)
        {
            var scope = new TemplateScope(null, definition.Steps.Select(s => s.Id).ToList(), earlier, inputProperties, EnclosingMap: null);
            foreach (var (template, path) in OutputTemplates.Strings(definition.Output, "output"))
            {
                CheckTemplate(template, path, scope, errors);
            }
        }
    }

    /// <summary>Checks steps in order; <paramref name="earlier"/> grows as each step becomes visible to the next.</summary>
    private static void CheckStepList(
        IReadOnlyList<StepDefinition> steps, string listPath, HashSet<string> earlier, IReadOnlyList<string> visibleIds,
        HashSet<string>? inputProperties, string? enclosingMap, List<DefinitionError> errors)
    {
        var seen = new Dictionary<string, int>(StringComparer.Ordinal);
        for (var i = 0; i < steps.Count; i++)
        {
            var step = steps[i];
            var path = $"{listPath}[{i}]";
            if (seen.TryGetValue(step.Id, out var first))
            {
                errors.Add(new DefinitionError($"{path}.id", $"duplicate step id '{step.Id}' (first used by {listPath}[{first}])"));
            }
            else
            {
                seen[step.Id] = i;
            }

            CheckStep(step, path, earlier, visibleIds, inputProperties, enclosingMap, errors);
            earlier.Add(step.Id);
        }
    }

    private static void CheckStep(
        StepDefinition step, string path, HashSet<string> earlier, IReadOnlyList<string> visibleIds,
        HashSet<string>? inputProperties, string? enclosingMap, List<DefinitionError> errors)
    {
        var scope = new TemplateScope(step.Id, visibleIds, earlier, inputProperties, enclosingMap);
        if (step.When is not null)
        {
            CheckTemplate("{% if " + step.When + " %}{% endif %}", $"{path}.when", scope, errors);
        }

        switch (step)
        {
            case LlmStepDefinition llm:
                CheckTemplate(llm.Prompt, $"{path}.prompt", scope, errors);
                if (llm.System is not null)
                {
                    CheckTemplate(llm.System, $"{path}.system", scope, errors);
                }

                if (llm.Output is not null)
                {
                    CheckSchema(llm.Output.Schema, $"{path}.output.schema", errors);
                }

                break;
            case TransformStepDefinition transform:
                if (transform.Template is not null)
                {
                    CheckTemplate(transform.Template, $"{path}.template", scope, errors);
                }

                foreach (var (template, valuePath) in OutputTemplates.Strings(transform.Value, $"{path}.value"))
                {
                    CheckTemplate(template, valuePath, scope, errors);
                }

                break;
            case ApprovalStepDefinition approval:
                if (approval.Message is not null)
                {
                    CheckTemplate(approval.Message, $"{path}.message", scope, errors);
                }

                break;
            case MapStepDefinition map:
                CheckTemplate("{{ " + map.Items + " }}", $"{path}.items", scope, errors);
                if (map.Body.Count == 0)
                {
                    errors.Add(new DefinitionError(path, "a map needs 'step' or 'steps'"));
                    break;
                }

                // Nested steps see the steps before the map, their earlier siblings, item and index.
                var nestedEarlier = new HashSet<string>(earlier, StringComparer.Ordinal);
                var nestedVisible = visibleIds.Concat(map.Body.Select(s => s.Id)).Where(id => id != map.Id).ToList();
                if (map.Steps is not null)
                {
                    for (var n = 0; n < map.Steps.Count; n++)
                    {
                        if (visibleIds.Contains(map.Steps[n].Id))
                        {
                            errors.Add(new DefinitionError($"{path}.steps[{n}].id", $"'{map.Steps[n].Id}' is already a top-level step id"));
                        }
                    }

                    CheckStepList(map.Steps, $"{path}.steps", nestedEarlier, nestedVisible, inputProperties, enclosingMap: map.Id, errors);
                }
                else
                {
                    CheckStep(map.Body[0], $"{path}.step", nestedEarlier, nestedVisible, inputProperties, enclosingMap: map.Id, errors);
                }

                break;
        }
    }

    private static void CheckSchema(JsonObject schema, string path, List<DefinitionError> errors)
    {
        try
        {
            InputSchemas.Build(schema);
        }
        catch (Exception ex) when (ex is JsonSchemaException or JsonException or ArgumentException or InvalidOperationException or KeyNotFoundException)
        {
            errors.Add(new DefinitionError(path, $"is not a valid JSON Schema: {ex.Message}"));
        }
    }

    private static void CheckTemplate(string source, string path, TemplateScope scope, List<DefinitionError> errors)
    {
        if (!TemplateEngine.TryParse(source, out var template, out var parseError))
        {
            errors.Add(new DefinitionError(path, $"template does not parse: {parseError}"));
            return;
        }

        var references = TemplateReferences.Of(template!);
        foreach (var filter in references.Filters.Where(f => !TemplateEngine.FilterNames.Contains(f)))
        {
            errors.Add(new DefinitionError(path, $"unknown filter {filter}{Suggestions.Hint(filter, TemplateEngine.FilterNames)}"));
        }

        var reported = new HashSet<string>(StringComparer.Ordinal);
        foreach (var reference in references.Paths)
        {
            var message = CheckReference(reference, scope, references.Locals);
            if (message is not null && reported.Add(message))
            {
                errors.Add(new DefinitionError(path, message));
            }
        }
    }

    private static string? CheckReference(IReadOnlyList<string> reference, TemplateScope scope, IReadOnlySet<string> locals)
    {
        var root = reference[0];
        if (locals.Contains(root))
        {
            return null;
        }

        var roots = scope.InMap ? MapRoots : Roots;
        if (!roots.Contains(root))
        {
            return root is "item" or "index"
                ? $"{root} is only defined inside a map's nested steps"
                : $"unknown variable {root}{Suggestions.Hint(root, roots)}";
        }

        if (root == "steps")
        {
            if (reference.Count < 2)
            {
                return null;
            }

            var id = reference[1];
            if (id == scope.EnclosingMap)
            {
                return $"steps.{id} is the map this step runs in; its output exists only once every item is done (use item and index)";
            }

            if (!scope.VisibleIds.Contains(id))
            {
                return $"unknown variable steps.{id}{Suggestions.Hint(id, scope.Earlier, "steps.")}";
            }

            if (id == scope.CurrentId)
            {
                return $"steps.{id} refers to the step itself";
            }

            if (!scope.Earlier.Contains(id))
            {
                return $"steps.{id} refers to a step that runs later (steps run in order, so this would be a cycle)";
            }

            if (reference.Count > 2 && reference[2] is not ("output" or "status" or "failures"))
            {
                return $"unknown variable steps.{id}.{reference[2]} (a step exposes output, status and, for a map, failures)";
            }
        }
        else if (root == "input" && reference.Count > 1 && scope.InputProperties is { } properties && !properties.Contains(reference[1]))
        {
            return $"unknown variable input.{reference[1]}{Suggestions.Hint(reference[1], properties, "input.")} (not declared in the input schema)";
        }
        else if (root == "run" && reference.Count > 1 && reference[1] != "id")
        {
            return $"unknown variable run.{reference[1]} (run exposes id)";
        }

        return null;
    }

    /// <summary>The input schema's declared properties, when it closes the set (no additionalProperties).</summary>
    private static HashSet<string>? DeclaredInputProperties(JsonObject? input)
    {
        if (input?["properties"] is not JsonObject properties)
        {
            return null;
        }

        var additional = input["additionalProperties"];
        if (additional is JsonValue value && value.GetValueKind() == JsonValueKind.True)
        {
            return null;
        }

        return properties.Select(p => p.Key).ToHashSet(StringComparer.Ordinal);
    }

    private static JsonSchema LoadSchema()
    {
        using var stream = typeof(DefinitionValidator).Assembly.GetManifestResourceStream("workflow-definition.schema.json")
            ?? throw new InvalidOperationException("The definition schema is not embedded.");
        using var reader = new StreamReader(stream);
        return JsonSchema.FromText(reader.ReadToEnd());
    }

    private sealed record TemplateScope(
        string? CurrentId,
        IReadOnlyList<string> VisibleIds,
        IReadOnlySet<string> Earlier,
        IReadOnlySet<string>? InputProperties,
        string? EnclosingMap)
    {
        public bool InMap => EnclosingMap is not null;

        public IReadOnlySet<string> Earlier { get; } = CurrentId is null ? Earlier : Earlier.Where(id => id != CurrentId).ToHashSet(StringComparer.Ordinal);
    }
}
