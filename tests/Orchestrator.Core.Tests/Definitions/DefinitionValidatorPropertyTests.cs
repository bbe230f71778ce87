using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using CsCheck;
using Orchestrator.Core.Definitions;

namespace Orchestrator.Core.Tests.Definitions;

/// <summary>Random definition-shaped documents: mostly plausible, with wrong fields, types and references mixed in.</summary>
public sealed partial class DefinitionValidatorPropertyTests
{
    private const int Iterations = 2000;

    // Step ids, including some the schema rejects; templates refer to the same pool so references sometimes resolve.
    private static readonly string[] Ids = ["a", "b", "summarize", "classify", "each", "item", "x1", "_p", "1bad", "", "has space"];
    private static readonly string[] Fields = ["output", "status", "failures", "bogus", "text", "id", "documents", "priority", "size", "0"];
    private static readonly string[] Roots = ["input", "steps", "run", "item", "index", "inptu", "stepz", "forloop", "x"];
    private static readonly string[] Keys = ["a", "b", "x", "0", "12", "type", "id", "text", "name", "steps", "$schema"];

    private static readonly Gen<string> Word = Gen.OneOf(Gen.OneOf(Keys), Gen.Char["abcxyz019_ {}%|.'\"\n-"].Array[0, 8].Select(c => new string(c)));

    private static readonly Gen<string> Reference =
        Gen.Select(Gen.OneOf(Roots), Gen.OneOf(Gen.OneOf(Ids), Gen.OneOf(Fields)).Array[0, 3], (root, path) => path.Length == 0 ? root : root + "." + string.Join('.', path));

    private static readonly Gen<string> Filter = Gen.OneOf(
        "", "", "", " | upcase", " | size", " | json", " | plus: 1", " | default: 'x'", " | join: ', '", " | upcse", " | nofilter", " |", " | date: '%Y'");

    private static readonly Gen<string> Piece = Gen.Frequency(
        (3, Word),
        (5, Gen.Select(Reference, Filter, (r, f) => "{{ " + r + f + " }}")),
        (1, Reference.Select(r => "{% if " + r + " %}yes{% else %}no{% endif %}")),
        (1, Reference.Select(r => "{% for v in " + r + " %}{{ v }}{{ forloop.index }}{% endfor %}")),
        (1, Reference.Select(r => "{% assign q = " + r + " %}{{ q }}")),
        (1, Reference.Select(r => "{% tablerow t in " + r + " %}{{ t }}{% endtablerow %}")),
        (1, Gen.OneOf("{{ x", "{% if %}", "{% endfor %}", "{% include 'x' %}", "{% render '/etc/passwd' %}", "{{ }}", "}}", "{% raw %}{{ a }}{% endraw %}")));

    private static readonly Gen<string> Template = Gen.Frequency(
        (1, Piece.Array[0, 4].Select(p => string.Concat(p))),
        (1, Gen.OneOf("Summarise {{ input.text }}", "{{ run.id }}", "plain text", "{% if input.text %}{{ input.text | upcase }}{% endif %}")));

    private static readonly Gen<string> Condition = Gen.Frequency(
        (4, Reference),
        (2, Gen.Select(Reference, Word, (r, w) => $"{r} == '{w.Replace("'", "", StringComparison.Ordinal)}'")),
        (1, Gen.OneOf("", "===", "a and", "input.x %}{% if true")));

    private static readonly Gen<string> Duration = Gen.OneOf("30s", "2m", "24h", "500ms", "1.5d", "00:01:00", "0s", "5 minutes", "-1s", "s", "");

    private static readonly Gen<JsonNode?> Scalar = Gen.Frequency(
        (1, Gen.Const(() => (JsonNode?)null)),
        (1, Gen.Bool.Select(b => (JsonNode?)JsonValue.Create(b))),
        (3, Gen.OneOf(Gen.Int[-2, 5], Gen.Int).Select(i => (JsonNode?)JsonValue.Create(i))),
        (1, Gen.OneOf(0.5, 1.0, 2.0, 2.5, 1e10, 1e300, -0.25).Select(d => (JsonNode?)JsonValue.Create(d))),
        (3, Gen.OneOf(Word, Template).Select(s => (JsonNode?)JsonValue.Create(s))));

    /// <summary>Any JSON, a few levels deep, to put where it does not belong.</summary>
    private static readonly Gen<JsonNode?> AnyJson = Gen.Recursive<JsonNode?>((depth, self) => depth >= 3
        ? Scalar
        : Gen.Frequency(
            (4, Scalar),
            (1, self.Array[0, 3].Select(items => (JsonNode?)new JsonArray(items))),
            (1, Gen.Select(Gen.OneOf(Keys).ArrayUnique[0, 3], self.Array[3], (keys, values) => (JsonNode?)Object(keys.Select((k, i) => (k, values[i])))))));

    private static readonly Gen<JsonNode?> Schema = Gen.Frequency(
        (4, Gen.Select(Gen.OneOf(Fields).ArrayUnique[0, 3], Gen.Bool, Gen.Bool, (names, open, list) => (JsonNode?)new JsonObject
        {
            ["type"] = "object",
            ["properties"] = Object(names.Select(n => (n, (JsonNode?)new JsonObject { ["type"] = list ? "array" : "string" }))),
            ["additionalProperties"] = open,
        })),
        (1, Gen.Const(() => (JsonNode?)new JsonObject { ["type"] = 12 })),
        (1, AnyJson));

    private static readonly Gen<JsonNode?> Retry = Gen.Frequency(
        (3, Gen.Select(Gen.Int[0, 4], Duration, Gen.OneOf(1.0, 2.0, 0.5, 11.0), (attempts, interval, backoff) => (JsonNode?)new JsonObject
        {
            ["maxAttempts"] = attempts,
            ["firstInterval"] = interval,
            ["backoff"] = backoff,
        })),
        (1, AnyJson));

    private static readonly Gen<JsonNode?> Step = Gen.Recursive<JsonNode?>((depth, self) =>
    {
        var nested = depth >= 2 ? Gen.Const(() => (JsonNode?)null) : self;
        var field = Gen.Frequency<(string, JsonNode?)>(
            (4, Template.Select(t => ("prompt", (JsonNode?)t))),
            (1, Template.Select(t => ("system", (JsonNode?)t))),
            (1, Gen.OneOf(0.0, 0.7, 2.0, 3.0).Select(t => ("temperature", (JsonNode?)t))),
            (1, Gen.OneOf(0, 1, 500, 2_000_000).Select(t => ("maxTokens", (JsonNode?)t))),
            (1, Schema.Select(s => ("output", (JsonNode?)new JsonObject { ["schema"] = s }))),
            (2, Condition.Select(c => ("when", (JsonNode?)c))),
            (2, Duration.Select(d => ("timeout", (JsonNode?)d))),
            (1, Retry.Select(r => ("retry", r))),
            (3, Gen.OneOf(Reference, Condition).Select(r => ("items", (JsonNode?)r))),
            (1, Gen.OneOf(0, 1, 4, 101).Select(p => ("maxParallel", (JsonNode?)p))),
            (1, Gen.OneOf("fail", "continue", "ignore").Select(p => ("onItemFailure", (JsonNode?)p))),
            (3, nested.Select(s => ("step", s))),
            (2, nested.Array[0, 3].Select(s => ("steps", (JsonNode?)new JsonArray(s)))),
            (1, Gen.OneOf("approve", "bad event", "").Select(e => ("event", (JsonNode?)e))),
            (1, Template.Select(t => ("message", (JsonNode?)t))),
            (1, AnyJson.Select(v => ("onTimeout", v))),
            (1, Gen.OneOf("fail", "continue", "maybe").Select(r => ("onReject", (JsonNode?)r))),
            (3, Template.Select(t => ("template", (JsonNode?)t))),
            (2, AnyJson.Select(v => ("value", v))),
            (1, Gen.Select(Gen.OneOf(Keys), AnyJson, (k, v) => (k, v))));
        var chaotic = Gen.Select(
            Gen.Frequency((8, Gen.OneOf(Ids).Select(i => (JsonNode?)i)), (1, Gen.Const(() => (JsonNode?)null)), (1, Scalar)),
            Gen.Frequency((8, Gen.OneOf("llm", "map", "approval", "transform").Select(t => (JsonNode?)t)), (1, Gen.OneOf("llmx", "Map").Select(t => (JsonNode?)t)), (1, Scalar)),
            field.Array[0, 5],
            Gen.Int[0, 9],
            (id, type, fields, omit) =>
            {
                var members = new List<(string, JsonNode?)>();
                if (omit != 0)
                {
                    members.Add(("id", id));
                }

                if (omit != 1)
                {
                    members.Add(("type", type));
                }

                members.AddRange(fields);
                return (JsonNode?)Object(members);
            });

        // A step shaped for its type, so that whole definitions are valid often enough to check the round trip.
        var typed = Gen.Select(Gen.OneOf(Ids), Gen.Int[0, 5], Template, Gen.Select(Reference, Duration, (r, d) => (r, d)), nested.Array[1, 2], (id, kind, text, more, body) =>
        {
            JsonNode? Body(int i) => body[i] is JsonObject b ? b : new JsonObject { ["type"] = "transform", ["template"] = text };
            var step = new JsonObject { ["id"] = id };
            switch (kind)
            {
                case 0 or 1:
                    step["type"] = "llm";
                    step["prompt"] = text;
                    break;
                case 2:
                    step["type"] = "transform";
                    step["value"] = new JsonObject { ["text"] = text, ["ref"] = "{{ " + more.r + " }}" };
                    break;
                case 3:
                    step["type"] = "approval";
                    step["timeout"] = more.d;
                    step["message"] = text;
                    break;
                case 4:
                    step["type"] = "map";
                    step["items"] = more.r;
                    step["step"] = Body(0);
                    break;
                default:
                    step["type"] = "map";
                    step["items"] = "input.documents";
                    step["steps"] = new JsonArray(body.Select((_, i) => Body(i)).ToArray());
                    break;
            }

            return (JsonNode?)step;
        });
        return Gen.Frequency((1, chaotic), (2, typed));
    });

    private static readonly Gen<string> CleanTemplate = Gen.OneOf(
        "Summarise {{ input.text }}", "{{ run.id }}", "plain text", "{% for d in input.documents %}{{ forloop.index }}: {{ d }}{% endfor %}",
        "{{ steps.a.output }}", "{{ steps.summarize.output | upcase }}", "{{ steps.classify.status }}");

    /// <summary>Steps that are right for their type, with templates that may still refer to later steps or themselves.</summary>
    private static readonly Gen<JsonNode?> PlausibleStep = Gen.Recursive<JsonNode?>((depth, self) =>
        Gen.Select(
            Gen.OneOf("a", "b", "summarize", "classify", "each"),
            Gen.Int[0, depth == 0 ? 5 : 1],
            CleanTemplate,
            depth == 0 ? self.Array[1, 2] : Gen.Const(() => Array.Empty<JsonNode?>()),
            (id, kind, text, body) =>
        {
            var step = new JsonObject { ["id"] = id };
            switch (kind)
            {
                case 0:
                    step["type"] = "llm";
                    step["prompt"] = text;
                    step["temperature"] = 0.2;
                    break;
                case 1:
                    step["type"] = "transform";
                    step["template"] = text;
                    break;
                case 2:
                    step["type"] = "llm";
                    step["prompt"] = text;
                    step["output"] = new JsonObject { ["schema"] = new JsonObject { ["type"] = "object" } };
                    step["when"] = "input.text != blank";
                    break;
                case 3:
                    step["type"] = "approval";
                    step["timeout"] = "1h";
                    step["message"] = text;
                    break;
                case 4:
                    step["type"] = "map";
                    step["items"] = "input.documents";
                    step["step"] = body[0];
                    break;
                default:
                    step["type"] = "map";
                    step["items"] = "input.documents";
                    step["steps"] = new JsonArray(body);
                    break;
            }

            return (JsonNode?)step;
        }));

    private static readonly Gen<JsonNode?> PlausibleDocument = Gen.Select(PlausibleStep.Array[1, 3], Gen.Bool, Gen.OneOf(CleanTemplate, Template), (steps, typed, output) =>
        (JsonNode?)new JsonObject
        {
            ["name"] = "plausible",
            ["input"] = typed
                ? new JsonObject { ["type"] = "object", ["properties"] = new JsonObject { ["text"] = new JsonObject(), ["documents"] = new JsonObject() } }
                : new JsonObject { ["type"] = "object" },
            ["steps"] = new JsonArray(steps),
            ["output"] = output,
        });

    private static readonly Gen<JsonNode?> Document = Gen.Frequency(
        (1, AnyJson),
        (6, PlausibleDocument),
        (12, Gen.Select(
            Gen.Frequency((8, Gen.OneOf("w", "summarize-classify", "a.b_c-1").Select(n => (JsonNode?)n)), (1, Gen.OneOf("Bad Name", "").Select(n => (JsonNode?)n)), (1, Scalar)),
            Gen.Frequency((6, Gen.OneOf(1, 2).Select(v => (JsonNode?)v)), (1, Gen.OneOf(0, -1).Select(v => (JsonNode?)v)), (1, Scalar)),
            Gen.Frequency((2, Schema), (1, AnyJson)),
            Gen.Frequency((6, Step.Array[1, 4].Select(s => (JsonNode?)new JsonArray(s))), (1, AnyJson)),
            Gen.Frequency((3, Template.Select(t => (JsonNode?)t)), (1, AnyJson)),
            Gen.Select(Duration, Retry, Gen.OneOf(0, 1, 1000), (timeout, retry, tokens) => (timeout, retry, tokens)),
            Gen.Int[0, 63],
            Gen.Select(Gen.OneOf(Keys), AnyJson, Gen.Int[0, 15], (k, v, r) => (k, v, r)),
            (name, version, input, steps, output, misc, mask, junk) =>
            {
                // Each bit of the mask leaves one member out, so every combination of present and missing fields occurs.
                var members = new List<(string, JsonNode?)>();
                void Add(int bit, string key, JsonNode? value)
                {
                    if ((mask & (1 << bit)) == 0)
                    {
                        members.Add((key, value));
                    }
                }

                Add(0, "version", version);
                Add(1, "input", input);
                Add(2, "output", output);
                Add(3, "timeout", misc.timeout);
                Add(4, "defaults", new JsonObject { ["retry"] = misc.retry, ["maxTokens"] = misc.tokens });
                Add(5, "budget", new JsonObject { ["maxTokens"] = misc.tokens });
                if (junk.r is >= 2 and <= 4)
                {
                    members.Add((junk.k, junk.v));
                }

                if (junk.r != 0)
                {
                    members.Add(("name", name));
                }

                if (junk.r != 1)
                {
                    members.Add(("steps", steps));
                }

                return (JsonNode?)Object(members);
            })));

    [Fact]
    public void The_validator_never_throws_and_every_error_points_into_the_document()
    {
        var valid = 0;
        var invalid = 0;

        Document.Sample(
            document =>
            {
                // As parsed from a request body, and as built in code from YAML: both must behave the same.
                foreach (var node in new[] { document, Reparse(document) })
                {
                    var errors = new List<DefinitionError>();
                    var definition = DefinitionValidator.TryValidate(node, errors);
                    if (definition is null || errors.Count > 0)
                    {
                        Assert.NotEmpty(errors);
                        Interlocked.Increment(ref invalid);
                        foreach (var error in errors)
                        {
                            var problem = Locate(node, error);
                            Assert.True(problem is null, $"{error}: {problem}");
                        }
                    }
                    else
                    {
                        Interlocked.Increment(ref valid);
                    }
                }
            },
            iter: Iterations,
            print: Print);

        // Both branches of the property must actually be exercised.
        Assert.True(valid > Iterations / 50, $"only {valid} valid documents");
        Assert.True(invalid > Iterations / 2, $"only {invalid} invalid documents");
    }

    [Fact]
    public void A_definition_that_validates_survives_serialization_unchanged()
    {
        var roundTrips = 0;

        Document.Sample(
            document =>
            {
                var errors = new List<DefinitionError>();
                var definition = DefinitionValidator.TryValidate(document, errors);
                if (definition is null || errors.Count > 0)
                {
                    return;
                }

                Interlocked.Increment(ref roundTrips);
                var json = DefinitionJson.Serialize(definition);
                var again = new List<DefinitionError>();
                var reparsed = DefinitionValidator.TryValidate(JsonNode.Parse(json), again);
                Assert.True(again.Count == 0, $"{json}\n{string.Join("\n", again)}");
                Assert.Equal(json, DefinitionJson.Serialize(reparsed!));
            },
            iter: Iterations,
            print: Print);

        Assert.True(roundTrips > Iterations / 50, $"only {roundTrips} documents validated");
    }

    /// <summary>Null when the error's path leads into the document, otherwise why it does not.</summary>
    private static string? Locate(JsonNode? document, DefinitionError error)
    {
        if (document is not JsonObject)
        {
            return error.Path.Length == 0 ? null : "a document that is not an object has errors only at its root";
        }

        if (error.Path.Length == 0)
        {
            return "empty path";
        }

        var tokens = PathToken().Matches(error.Path);
        if (string.Concat(tokens.Select(t => t.Value)) != error.Path)
        {
            return "the path does not read as name.name[index]";
        }

        JsonNode? current = document;
        for (var i = 0; i < tokens.Count; i++)
        {
            var last = i == tokens.Count - 1;
            var token = tokens[i];
            if (!TryChild(current, token, out var next))
            {
                // Only a missing required property may be named by a path that is not in the document.
                return last && error.Message == "is required" && current is JsonObject ? null : $"'{token.Value}' is not in the document";
            }

            current = next;
        }

        return null;
    }

    private static bool TryChild(JsonNode? parent, Match token, out JsonNode? child)
    {
        child = null;
        if (token.Groups["index"].Success)
        {
            var index = int.Parse(token.Groups["index"].Value, System.Globalization.CultureInfo.InvariantCulture);
            if (parent is JsonArray array && index < array.Count)
            {
                child = array[index];
                return true;
            }

            return false;
        }

        return parent is JsonObject obj && obj.TryGetPropertyValue(token.Groups["name"].Value, out child);
    }

    private static JsonObject Object(IEnumerable<(string Key, JsonNode? Value)> members)
    {
        var obj = new JsonObject();
        foreach (var (key, value) in members)
        {
            obj[key] = value;
        }

        return obj;
    }

    private static JsonNode? Reparse(JsonNode? node) => node is null ? null : JsonNode.Parse(node.ToJsonString());

    private static string Print(JsonNode? node) => node?.ToJsonString() ?? "null";

    [GeneratedRegex(@"\G(?:(?:^|\.)(?<name>[^.\[\]]+)|\[(?<index>\d+)\])")]
    private static partial Regex PathToken();
}
