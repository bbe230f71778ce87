using System.Text.Json.Nodes;
using Orchestrator.Core.Definitions;

namespace Orchestrator.Core.Tests.Definitions;

public sealed class DefinitionValidatorTests
{
    /// <summary>Each row: what is wrong, the definition, the path a user is pointed at, and part of the message.</summary>
    public static TheoryData<string, string, string, string> InvalidDefinitions => new()
    {
        {
            "zero timeout on a map's nested step",
            """{ "name": "w", "steps": [ { "id": "m", "type": "map", "items": "input.xs", "step": { "type": "llm", "prompt": "{{ item }}", "timeout": "0s" } } ] }""",
            "steps[0].step.timeout", "not a positive duration"
        },
        {
            "retry whose first interval is longer than its maximum",
            """{ "name": "w", "steps": [ { "id": "a", "type": "llm", "prompt": "x", "retry": { "firstInterval": "2m" } } ] }""",
            "steps[0].retry.maxInterval", "shorter than firstInterval"
        },
        {
            "missing name",
            """{ "steps": [ { "id": "a", "type": "llm", "prompt": "hi" } ] }""",
            "name", "is required"
        },
        {
            "name that breaks the pattern",
            """{ "name": "Bad Name", "steps": [ { "id": "a", "type": "llm", "prompt": "hi" } ] }""",
            "name", "'Bad Name' does not match"
        },
        {
            "version 0",
            """{ "name": "w", "version": 0, "steps": [ { "id": "a", "type": "llm", "prompt": "hi" } ] }""",
            "version", "at least 1"
        },
        {
            "version written as 1.0",
            """{ "name": "w", "version": 1.0, "steps": [ { "id": "a", "type": "llm", "prompt": "hi" } ] }""",
            "version", "whole number"
        },
        {
            "no steps",
            """{ "name": "w", "steps": [] }""",
            "steps", "at least 1"
        },
        {
            "steps missing",
            """{ "name": "w" }""",
            "steps", "is required"
        },
        {
            "steps not a list",
            """{ "name": "w", "steps": { "id": "a" } }""",
            "steps", "should be \"array\""
        },
        {
            "unknown top-level property",
            """{ "name": "w", "colour": "red", "steps": [ { "id": "a", "type": "llm", "prompt": "hi" } ] }""",
            "colour", "unknown property 'colour'"
        },
        {
            "unknown top-level property that looks like an index",
            """{ "name": "w", "0": true, "steps": [ { "id": "a", "type": "llm", "prompt": "hi" } ] }""",
            "0", "unknown property '0'"
        },
        {
            "unknown step property",
            """{ "name": "w", "steps": [ { "id": "a", "type": "llm", "prompt": "hi", "promt": "typo" } ] }""",
            "steps[0].promt", "unknown property 'promt'"
        },
        {
            "duplicate step ids",
            """{ "name": "w", "steps": [ { "id": "a", "type": "llm", "prompt": "x" }, { "id": "a", "type": "llm", "prompt": "y" } ] }""",
            "steps[1].id", "duplicate step id 'a' (first used by steps[0])"
        },
        {
            "step id that is not an identifier",
            """{ "name": "w", "steps": [ { "id": "1st", "type": "llm", "prompt": "x" } ] }""",
            "steps[0].id", "'1st' does not match"
        },
        {
            "unknown step type",
            """{ "name": "w", "steps": [ { "id": "a", "type": "llmx", "prompt": "hi" } ] }""",
            "steps[0].type", "must be one of: llm, map, approval, transform (did you mean llm?)"
        },
        {
            "step without a type",
            """{ "name": "w", "steps": [ { "id": "a", "prompt": "hi" } ] }""",
            "steps[0]", "missing required property 'type'"
        },
        {
            "step that is not an object",
            """{ "name": "w", "steps": [ { "id": "a", "type": "llm", "prompt": "hi" }, "b" ] }""",
            "steps[1]", "should be \"object\""
        },
        {
            "llm step without prompt",
            """{ "name": "w", "steps": [ { "id": "a", "type": "llm" } ] }""",
            "steps[0]", "missing required property 'prompt'"
        },
        {
            "template that does not parse",
            """{ "name": "w", "steps": [ { "id": "a", "type": "llm", "prompt": "Hello {{ input.name " } ] }""",
            "steps[0].prompt", "template does not parse"
        },
        {
            "template in the system prompt that does not parse",
            """{ "name": "w", "steps": [ { "id": "a", "type": "llm", "prompt": "x", "system": "{% if %}" } ] }""",
            "steps[0].system", "template does not parse"
        },
        {
            "template that includes a file",
            """{ "name": "w", "steps": [ { "id": "a", "type": "llm", "prompt": "{% include 'prompt.liquid' %}" } ] }""",
            "steps[0].prompt", "Unknown tag 'include'"
        },
        {
            "unknown filter",
            """{ "name": "w", "steps": [ { "id": "a", "type": "llm", "prompt": "{{ input.text | upcse }}" } ] }""",
            "steps[0].prompt", "unknown filter upcse (did you mean upcase?)"
        },
        {
            "unknown root variable",
            """{ "name": "w", "steps": [ { "id": "a", "type": "llm", "prompt": "{{ inptu.text }}" } ] }""",
            "steps[0].prompt", "unknown variable inptu (did you mean input?)"
        },
        {
            "misspelt step id",
            """{ "name": "w", "steps": [ { "id": "summarize", "type": "llm", "prompt": "x" }, { "id": "b", "type": "llm", "prompt": "{{ steps.sumarize.output }}" } ] }""",
            "steps[1].prompt", "unknown variable steps.sumarize (did you mean steps.summarize?)"
        },
        {
            "forward reference",
            """{ "name": "w", "steps": [ { "id": "a", "type": "llm", "prompt": "{{ steps.b.output }}" }, { "id": "b", "type": "llm", "prompt": "x" } ] }""",
            "steps[0].prompt", "steps.b refers to a step that runs later (steps run in order, so this would be a cycle)"
        },
        {
            "self reference",
            """{ "name": "w", "steps": [ { "id": "a", "type": "llm", "prompt": "{{ steps.a.output }}" } ] }""",
            "steps[0].prompt", "steps.a refers to the step itself"
        },
        {
            "step field that does not exist",
            """{ "name": "w", "steps": [ { "id": "a", "type": "llm", "prompt": "x" }, { "id": "b", "type": "llm", "prompt": "{{ steps.a.bogus }}" } ] }""",
            "steps[1].prompt", "unknown variable steps.a.bogus"
        },
        {
            "run field that does not exist",
            """{ "name": "w", "steps": [ { "id": "a", "type": "llm", "prompt": "{{ run.started }}" } ] }""",
            "steps[0].prompt", "unknown variable run.started (run exposes id)"
        },
        {
            "undeclared input property",
            """
            { "name": "w", "input": { "type": "object", "properties": { "text": { "type": "string" } } },
              "steps": [ { "id": "a", "type": "llm", "prompt": "{{ input.txt }}" } ] }
            """,
            "steps[0].prompt", "unknown variable input.txt (did you mean input.text?) (not declared in the input schema)"
        },
        {
            "input schema that is not a schema",
            """{ "name": "w", "input": { "type": 12 }, "steps": [ { "id": "a", "type": "llm", "prompt": "x" } ] }""",
            "input", "is not a valid JSON Schema"
        },
        {
            "item outside a map",
            """{ "name": "w", "steps": [ { "id": "a", "type": "llm", "prompt": "{{ item.text }}" } ] }""",
            "steps[0].prompt", "item is only defined inside a map's nested steps"
        },
        {
            "index outside a map",
            """{ "name": "w", "steps": [ { "id": "a", "type": "transform", "template": "{{ index }}" } ] }""",
            "steps[0].template", "index is only defined inside a map's nested steps"
        },
        {
            "map without step or steps",
            """{ "name": "w", "steps": [ { "id": "m", "type": "map", "items": "input.list" } ] }""",
            "steps[0]", "needs 'step' or 'steps'"
        },
        {
            "map with both step and steps",
            """
            { "name": "w", "steps": [ { "id": "m", "type": "map", "items": "input.list",
              "step": { "type": "llm", "prompt": "x" }, "steps": [ { "id": "n", "type": "llm", "prompt": "x" } ] } ] }
            """,
            "steps[0]", "must have only one of 'step' or 'steps'"
        },
        {
            "map nested in a map",
            """
            { "name": "w", "steps": [ { "id": "m", "type": "map", "items": "input.list",
              "step": { "type": "map", "items": "item", "step": { "type": "llm", "prompt": "x" } } } ] }
            """,
            "steps[0].step.type", "must be one of: llm, transform"
        },
        {
            "approval nested in a map's steps",
            """
            { "name": "w", "steps": [ { "id": "m", "type": "map", "items": "input.list",
              "steps": [ { "id": "ok", "type": "approval", "timeout": "1h" } ] } ] }
            """,
            "steps[0].steps[0].type", "must be one of: llm, transform"
        },
        {
            "map's nested steps without ids",
            """{ "name": "w", "steps": [ { "id": "m", "type": "map", "items": "input.list", "steps": [ { "type": "llm", "prompt": "x" } ] } ] }""",
            "steps[0].steps[0]", "missing required property 'id'"
        },
        {
            "map's nested step reading a later sibling",
            """
            { "name": "w", "steps": [ { "id": "m", "type": "map", "items": "input.list", "steps": [
              { "id": "a", "type": "llm", "prompt": "{{ steps.b.output }}" }, { "id": "b", "type": "llm", "prompt": "{{ item }}" } ] } ] }
            """,
            "steps[0].steps[0].prompt", "steps.b refers to a step that runs later"
        },
        {
            "map's second nested step reusing a top-level id",
            """
            { "name": "w", "steps": [ { "id": "a", "type": "llm", "prompt": "x" }, { "id": "m", "type": "map", "items": "input.list",
              "steps": [ { "id": "n", "type": "llm", "prompt": "x" }, { "id": "a", "type": "llm", "prompt": "x" } ] } ] }
            """,
            "steps[1].steps[1].id", "'a' is already a top-level step id"
        },
        {
            "approval without timeout",
            """{ "name": "w", "steps": [ { "id": "ok", "type": "approval", "message": "Approve?" } ] }""",
            "steps[0]", "missing required property 'timeout'"
        },
        {
            "duration that is not a duration",
            """{ "name": "w", "steps": [ { "id": "a", "type": "llm", "prompt": "x", "timeout": "5 minutes" } ] }""",
            "steps[0].timeout", "'5 minutes' does not match"
        },
        {
            "zero duration",
            """{ "name": "w", "timeout": "0s", "steps": [ { "id": "a", "type": "llm", "prompt": "x" } ] }""",
            "timeout", "'0s' is not a positive duration"
        },
        {
            "zero duration in the default retry",
            """{ "name": "w", "defaults": { "retry": { "firstInterval": "0ms" } }, "steps": [ { "id": "a", "type": "llm", "prompt": "x" } ] }""",
            "defaults.retry.firstInterval", "'0ms' is not a positive duration"
        },
        {
            "retry with zero attempts",
            """{ "name": "w", "steps": [ { "id": "a", "type": "llm", "prompt": "x", "retry": { "maxAttempts": 0 } } ] }""",
            "steps[0].retry.maxAttempts", "at least 1"
        },
        {
            "temperature 3",
            """{ "name": "w", "steps": [ { "id": "a", "type": "llm", "prompt": "x", "temperature": 3 } ] }""",
            "steps[0].temperature", "at most 2"
        },
        {
            "output schema that is not a schema",
            """{ "name": "w", "steps": [ { "id": "a", "type": "llm", "prompt": "x", "output": { "schema": { "type": 12 } } } ] }""",
            "steps[0].output.schema", "is not a valid JSON Schema"
        },
        {
            "transform with neither template nor value",
            """{ "name": "w", "steps": [ { "id": "t", "type": "transform" } ] }""",
            "steps[0]", "needs 'template' or 'value'"
        },
        {
            "transform with both template and value",
            """{ "name": "w", "steps": [ { "id": "t", "type": "transform", "template": "x", "value": 1 } ] }""",
            "steps[0]", "must have only one of 'template' or 'value'"
        },
        {
            "transform value whose template reads an unknown step",
            """{ "name": "w", "steps": [ { "id": "t", "type": "transform", "value": { "list": [ "{{ steps.nope.output }}" ] } } ] }""",
            "steps[0].value.list[0]", "unknown variable steps.nope"
        },
        {
            "when condition that does not parse",
            """{ "name": "w", "steps": [ { "id": "a", "type": "llm", "prompt": "x", "when": "input.priority ===" } ] }""",
            "steps[0].when", "template does not parse"
        },
        {
            "when condition reading an unknown variable",
            """{ "name": "w", "steps": [ { "id": "a", "type": "llm", "prompt": "x", "when": "imput.urgent" } ] }""",
            "steps[0].when", "unknown variable imput (did you mean input?)"
        },
        {
            "map items expression that does not parse",
            """{ "name": "w", "steps": [ { "id": "m", "type": "map", "items": "input.list |", "step": { "type": "llm", "prompt": "x" } } ] }""",
            "steps[0].items", "template does not parse"
        },
        {
            "output template reading an unknown step",
            """{ "name": "w", "steps": [ { "id": "summary", "type": "llm", "prompt": "x" } ], "output": { "text": "{{ steps.sumary.output }}" } }""",
            "output.text", "unknown variable steps.sumary (did you mean steps.summary?)"
        },
        {
            "budget of zero tokens",
            """{ "name": "w", "budget": { "maxTokens": 0 }, "steps": [ { "id": "a", "type": "llm", "prompt": "x" } ] }""",
            "budget.maxTokens", "at least 1"
        },
    };

    [Theory]
    [MemberData(nameof(InvalidDefinitions))]
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
