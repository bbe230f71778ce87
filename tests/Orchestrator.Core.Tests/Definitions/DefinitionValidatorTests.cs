using System.Text.Json.Nodes;
using Orchestrator.Core.Definitions;

namespace Orchestrator.Core.Tests.Definitions;

public sealed class DefinitionValidatorTests
{
    [Theory]
    [MemberData(nameof(InvalidDefinitionCatalog.All), MemberType = typeof(InvalidDefinitionCatalog))]
    public void An_invalid_definition_is_rejected_with_an_error_at_the_path_of_the_problem(string problem, string json, string path, string message)
    {
        var errors = new List<DefinitionError>();

        DefinitionValidator.TryValidate(JsonNode.Parse(json), errors);

        Assert.True(errors.Count > 0, $"{problem}: no error reported");
        Assert.True(
            errors.Exists(e => e.Path == path && e.Message.Contains(message, StringComparison.Ordinal)),
            $"{problem}: expected '{path}: ...{message}...' but got:\n{string.Join("\n", errors)}");
        var thrown = Assert.Throws<DefinitionValidationException>(() => DefinitionValidator.Validate(JsonNode.Parse(json)));
        Assert.Equal(errors, thrown.Errors);
    }

    [Fact]
    public void A_misspelt_step_id_reads_as_one_line_a_user_can_act_on()
    {
        var errors = new List<DefinitionError>();

        DefinitionValidator.TryValidate(JsonNode.Parse("""
            { "name": "w", "steps": [
              { "id": "summarize", "type": "llm", "prompt": "Summarise {{ input.text }}" },
              { "id": "classify", "type": "llm", "prompt": "Classify {{ steps.sumarize.output }}" } ] }
            """), errors);

        Assert.Equal(["steps[1].prompt: unknown variable steps.sumarize (did you mean steps.summarize?)"], errors.Select(e => e.ToString()));
    }

    [Fact]
    public void Every_shape_error_of_a_definition_is_reported_at_once()
    {
        var errors = new List<DefinitionError>();

        var definition = DefinitionValidator.TryValidate(JsonNode.Parse("""
            {
              "name": "Not Valid", "version": 0, "colour": "red",
              "budget": { "maxTokens": 0 },
              "steps": [
                { "id": "a", "type": "llm", "prompt": "x", "temperature": 3 },
                { "id": "ok", "type": "approval" },
                { "id": "m", "type": "map", "items": "input.list" },
                { "id": "t", "type": "transform", "template": "x", "value": 1 },
                { "id": "b", "type": "sql" }
              ]
            }
            """), errors);

        Assert.Null(definition);
        Assert.Equal(
            ["budget.maxTokens", "colour", "name", "steps[0].temperature", "steps[1]", "steps[2]", "steps[3]", "steps[4].type", "version"],
            errors.Select(e => e.Path).Order(StringComparer.Ordinal));
    }

    [Fact]
    public void Every_meaning_error_of_a_well_shaped_definition_is_reported_at_once()
    {
        var errors = new List<DefinitionError>();

        DefinitionValidator.TryValidate(JsonNode.Parse("""
            {
              "name": "w", "timeout": "0s",
              "input": { "type": "object", "properties": { "text": { "type": "string" } } },
              "steps": [
                { "id": "a", "type": "llm", "prompt": "{{ input.txt }} {{ steps.b.output }}" },
                { "id": "b", "type": "llm", "prompt": "{{ item }}", "output": { "schema": { "type": 12 } } },
                { "id": "a", "type": "transform", "template": "{{ x | nofilter }}" }
              ],
              "output": "{{ steps.zzz.output }}"
            }
            """), errors);

        Assert.Equal(
            [
                "timeout: '0s' is not a positive duration (e.g. 30s, 5m, 24h)",
                "steps[0].prompt: unknown variable input.txt (did you mean input.text?) (not declared in the input schema)",
                "steps[0].prompt: steps.b refers to a step that runs later (steps run in order, so this would be a cycle)",
                "steps[1].prompt: item is only defined inside a map's nested steps",
                "steps[2].id: duplicate step id 'a' (first used by steps[0])",
                "steps[2].template: unknown filter nofilter",
                "steps[2].template: unknown variable x",
                "output: unknown variable steps.zzz",
            ],
            errors.Where(e => !e.Path.StartsWith("steps[1].output", StringComparison.Ordinal)).Select(e => e.ToString()));
        Assert.Contains(errors, e => e.Path == "steps[1].output.schema");
    }

    [Theory]
    [InlineData(null)]
    [InlineData("[]")]
    [InlineData("\"a workflow\"")]
    [InlineData("42")]
    public void A_document_that_is_not_an_object_is_rejected_at_the_root(string? json)
    {
        var errors = new List<DefinitionError>();

        var definition = DefinitionValidator.TryValidate(json is null ? null : JsonNode.Parse(json), errors);

        Assert.Null(definition);
        var error = Assert.Single(errors);
        Assert.Equal("", error.Path);
        Assert.Contains("must be a JSON object", error.Message);
    }

    public static TheoryData<string, string> ValidDefinitions => new()
    {
        {
            "one step",
            """{ "name": "w", "steps": [ { "id": "a", "type": "llm", "prompt": "hi" } ] }"""
        },
        {
            "every llm setting",
            """
            { "name": "every.llm-setting_1", "version": 7, "description": "d", "timeout": "1h",
              "defaults": { "provider": "p", "model": "m", "maxTokens": 100, "temperature": 0.5, "timeout": "30s",
                            "retry": { "maxAttempts": 5, "firstInterval": "1s", "backoff": 1.5, "maxInterval": "00:01:00" } },
              "budget": { "maxTokens": 10000, "maxCostUsd": 0.5 },
              "input": { "type": "object", "required": ["text"], "properties": { "text": { "type": "string" } } },
              "steps": [ { "id": "a", "type": "llm", "prompt": "{{ input.text }}", "system": "Be brief about {{ run.id }}",
                           "provider": "p", "model": "m", "temperature": 2, "maxTokens": 1000000, "timeout": "500ms",
                           "retry": { "maxAttempts": 1 }, "when": "input.text != blank",
                           "output": { "schema": { "type": "object", "properties": { "x": { "type": "number" } } }, "maxRepairs": 0 } } ],
              "output": "{{ steps.a.output.x }}" }
            """
        },
        {
            "map over a single nested step without an id",
            """
            { "name": "w", "steps": [
              { "id": "each", "type": "map", "items": "input.documents", "maxParallel": 2, "onItemFailure": "continue",
                "step": { "type": "llm", "prompt": "Document {{ index | plus: 1 }}: {{ item.text }}" } },
              { "id": "sum", "type": "transform", "value": { "all": "{{ steps.each.output }}", "failed": "{{ steps.each.failures.size }}", "state": "{{ steps.each.status }}" } } ] }
            """
        },
        {
            "map over steps that read their earlier siblings and earlier top-level steps",
            """
            { "name": "w", "steps": [
              { "id": "intro", "type": "llm", "prompt": "x" },
              { "id": "each", "type": "map", "items": "input.documents",
                "steps": [ { "id": "draft", "type": "llm", "prompt": "{{ steps.intro.output }} {{ item }}" },
                           { "id": "polish", "type": "transform", "template": "{{ steps.draft.output | upcase }} #{{ index }}" } ] } ] }
            """
        },
        {
            "approval with a message and policies",
            """
            { "name": "w", "steps": [
              { "id": "draft", "type": "llm", "prompt": "x" },
              { "id": "ok", "type": "approval", "timeout": "24h", "event": "approve.v1", "message": "Approve {{ steps.draft.output }}?",
                "onTimeout": { "approved": true }, "onReject": "continue", "when": "steps.draft.status == 'Completed'" },
              { "id": "after", "type": "llm", "prompt": "{{ steps.ok.output.comment | default: 'none' }}" } ] }
            """
        },
        {
            "undeclared input when the schema allows more properties",
            """
            { "name": "w", "input": { "type": "object", "properties": { "a": {} }, "additionalProperties": true },
              "steps": [ { "id": "a", "type": "llm", "prompt": "{{ input.anything }}" } ] }
            """
        },
        {
            "template locals: for, tablerow, assign and capture",
            """
            { "name": "w", "steps": [ { "id": "a", "type": "transform",
              "template": "{% for d in input.list %}{{ forloop.index }}={{ d }}{% endfor %}{% tablerow r in input.list %}{{ r }}{% endtablerow %}{% assign n = input.list | size %}{% capture c %}{{ n }}{% endcapture %}{{ c }}" } ] }
            """
        },
    };

    [Theory]
    [MemberData(nameof(ValidDefinitions))]
    public void A_valid_definition_has_no_errors_and_survives_a_round_trip(string description, string json)
    {
        var errors = new List<DefinitionError>();

        var definition = DefinitionValidator.TryValidate(JsonNode.Parse(json), errors);

        Assert.True(errors.Count == 0, $"{description}:\n{string.Join("\n", errors)}");
        Assert.NotNull(definition);
        AssertRoundTrips(definition);
    }

    [Theory]
    [InlineData("summarize-classify.yaml")]
    [InlineData("ticket-triage.yaml")]
    [InlineData("extract-many.yaml")]
    public void The_shipped_samples_are_valid(string fileName)
    {
        var path = Path.Combine(AppContext.BaseDirectory, "definitions", fileName);
        var errors = new List<DefinitionError>();

        var definition = DefinitionValidator.TryValidate(DefinitionDocuments.Parse(File.ReadAllText(path), fileName), errors);

        Assert.True(errors.Count == 0, string.Join("\n", errors));
        Assert.NotNull(definition);
        Assert.Equal(Path.GetFileNameWithoutExtension(fileName), definition.Name);
        AssertRoundTrips(definition);
    }

    private static void AssertRoundTrips(WorkflowDefinition definition)
    {
        var json = DefinitionJson.Serialize(definition);
        var again = new List<DefinitionError>();
        var reparsed = DefinitionValidator.TryValidate(JsonNode.Parse(json), again);
        Assert.True(again.Count == 0, $"after a round trip:\n{string.Join("\n", again)}\n{json}");
        Assert.Equal(json, DefinitionJson.Serialize(reparsed!));
    }
}
