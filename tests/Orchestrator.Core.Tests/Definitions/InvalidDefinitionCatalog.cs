namespace Orchestrator.Core.Tests.Definitions;

/// <summary>
/// Invalid definitions, each with the path a user is pointed at. Shared by the validator's unit tests and the
/// Server's end-to-end tests (linked into that project), which post each one and expect 400 at that path.
/// </summary>
public static class InvalidDefinitionCatalog
{
    /// <summary>Each row: what is wrong, the definition, the path a user is pointed at, and part of the message.</summary>
    public static TheoryData<string, string, string, string> All => new()
    {
        {
            "a map's nested step reading the map itself",
            """{ "name": "w", "steps": [ { "id": "a", "type": "llm", "prompt": "x" }, { "id": "m", "type": "map", "items": "input.xs", "step": { "type": "llm", "prompt": "{{ steps.m.output }}" } } ] }""",
            "steps[1].step.prompt", "is the map this step runs in"
        },
        {
            "zero timeout on a map's nested step",
            """{ "name": "w", "steps": [ { "id": "m", "type": "map", "items": "input.xs", "step": { "type": "llm", "prompt": "{{ item }}", "timeout": "0s" } } ] }""",
            "steps[0].step.timeout", "not a positive duration"
        },
        {
            "retry whose first interval is longer than its maximum",
            """{ "name": "w", "steps": [ { "id": "a", "type": "llm", "prompt": "x", "retry": { "firstInterval": "2m" } } ] }""",
            "steps[0].retry.firstInterval", "longer than maxInterval '1m'"
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
}
