using System.Text.Json.Nodes;
using CsCheck;
using Orchestrator.Core.Templates;

namespace Orchestrator.Core.Tests.Templates;

/// <summary>Random Liquid (text, outputs, filters with odd arguments, tags, loops with random bounds) against random JSON models.</summary>
public sealed class TemplateEnginePropertyTests
{
    private const int Iterations = 2000;
    private static readonly TimeSpan SampleTimeout = TimeSpan.FromSeconds(20);
    private static readonly DateTimeOffset Now = new(2024, 5, 6, 7, 8, 9, TimeSpan.Zero);

    private static readonly string[] Keys = ["text", "n", "list", "obj", "big", "x", "0", "output", "status", "a"];

    private static readonly string[] Filters =
    [
        "upcase", "downcase", "capitalize", "size", "json", "first", "last", "join", "split", "plus", "minus", "times", "divided_by",
        "modulo", "append", "prepend", "replace", "replace_first", "remove", "slice", "truncate", "truncatewords", "default", "date",
        "round", "ceil", "floor", "abs", "at_least", "at_most", "sort", "sort_natural", "reverse", "uniq", "compact", "map", "where",
        "concat", "sum", "strip", "lstrip", "rstrip", "escape", "escape_once", "url_encode", "url_decode", "base64_encode",
        "base64_decode", "md5", "sha1", "sha256", "newline_to_br", "strip_html", "strip_newlines", "format_number", "time_zone",
        "raw", "nofilter", "upcse",
    ];

    // Files that exist on any Linux machine: whatever a template does, their contents must never come out.
    private static readonly string[] Files = ["/etc/passwd", "../../../../../../etc/passwd", "/etc/hostname", "/proc/self/environ", "x"];

    private static readonly Gen<string> Text = Gen.Char["ab {}%|'\"\n-.()[]"].Array[0, 10].Select(c => new string(c));

    private static readonly Gen<string> Path = Gen.Select(
        Gen.OneOf("input", "steps", "run", "item", "index", "x", "forloop", "v"),
        Gen.Frequency((4, Gen.OneOf(Keys).Select(k => "." + k)), (1, Gen.Int[-2, 3].Select(i => $"[{i}]")), (1, Gen.OneOf(".size", ".first", ".last", "['text']"))).Array[0, 3],
        (root, rest) => root + string.Concat(rest));

    private static readonly Gen<string> Literal = Gen.OneOf(
        "1", "0", "-3", "2.5", "99999999999", "99999999999999999999", "1e308", "'abc'", "'%Y-%m-%d'", "','", "''", "(1..3)", "nil", "true", "empty");

    private static readonly Gen<string> Operand = Gen.Frequency((3, Path), (2, Literal));

    private static readonly Gen<string> FilterCall = Gen.Select(
        Gen.OneOf(Filters),
        Operand.Array[0, 2],
        (name, args) => args.Length == 0 ? $" | {name}" : $" | {name}: {string.Join(", ", args)}");

    private static readonly Gen<string> Expression = Gen.Select(Operand, FilterCall.Array[0, 3], (operand, filters) => operand + string.Concat(filters));

    private static readonly Gen<string> Condition = Gen.Frequency(
        (3, Operand),
        (2, Gen.Select(Operand, Gen.OneOf("==", "!=", ">", "<", ">=", "contains", "and", "or"), Operand, (a, op, b) => $"{a} {op} {b}")));

    // Mostly small loop bounds, sometimes ones that only the step limit stops.
    private static readonly Gen<string> Bound = Gen.Frequency(
        (12, Gen.OneOf("0", "1", "2", "3", "-2", "input.n", "index")),
        (1, Gen.OneOf("1000", "100000", "99999999999", "-99999999999")));

    private static readonly Gen<string> Template = Gen.Recursive<string>((depth, inner) =>
    {
        var body = depth >= 3 ? Text : inner;
        var piece = Gen.Frequency(
            (6, Text),
            (6, Expression.Select(e => "{{ " + e + " }}")),
            (2, Gen.Select(Condition, body, body, (c, yes, no) => $"{{% if {c} %}}{yes}{{% else %}}{no}{{% endif %}}")),
            (1, Gen.Select(Condition, body, (c, b) => $"{{% unless {c} %}}{b}{{% endunless %}}")),
            (2, Gen.Select(Bound, Bound, body, (from, to, b) => $"{{% for v in ({from}..{to}) %}}{b}{{% endfor %}}")),
            (1, Gen.Select(Path, Gen.OneOf("", " limit: 2", " offset: 1", " reversed"), body, (p, options, b) => $"{{% for v in {p}{options} %}}{b}{{{{ forloop.index }}}}{{% endfor %}}")),
            (1, Gen.Select(Path, body, (p, b) => $"{{% tablerow v in {p} cols: 2 %}}{b}{{% endtablerow %}}")),
            (1, Gen.Select(Expression, body, (e, b) => $"{{% assign q = {e} %}}{b}{{{{ q }}}}")),
            (1, Gen.Select(body, b => $"{{% capture q %}}{b}{{% endcapture %}}{{{{ q | size }}}}")),
            (1, Gen.Select(Operand, body, (o, b) => $"{{% case {o} %}}{{% when 1, 'abc' %}}{b}{{% else %}}e{{% endcase %}}")),
            (1, Gen.OneOf("{% cycle 'a', 'b' %}", "{% increment c %}", "{% decrement c %}", "{% break %}", "{% continue %}", "{% raw %}{{ x }}{% endraw %}", "{% comment %}{{ x }}{% endcomment %}", "{% liquid echo input.text\nassign z = 1 %}")),
            (1, Gen.Select(Gen.OneOf("include", "render"), Gen.OneOf(Files), (tag, file) => $"{{% {tag} '{file}' %}}")),
            (1, Gen.OneOf("{{", "}}", "{%", "%}", "{% if %}", "{% endfor %}", "{% for %}", "{{ x | }}", "{% endif", "{% else %}")));
        return piece.Array[0, 4].Select(p => string.Concat(p));
    });

    private static readonly Gen<JsonNode?> Scalar = Gen.Frequency(
        (1, Gen.Const(() => (JsonNode?)null)),
        (1, Gen.Bool.Select(b => (JsonNode?)b)),
        (2, Gen.OneOf(Gen.Int[-3, 5], Gen.Int).Select(i => (JsonNode?)i)),
        (1, Gen.OneOf(0.5, 2.5, 1e300, -1e300, 1e-300).Select(d => (JsonNode?)d)),
        (1, Gen.OneOf(long.MaxValue, long.MinValue).Select(l => (JsonNode?)l)),
        (1, Gen.OneOf(0.1m, 79228162514264337593543950335m).Select(d => (JsonNode?)d)),
        (3, Gen.OneOf(Text, Gen.OneOf("hello", "2024-05-06", "1,2,3", "<b>x</b>", "%%", "YQ==")).Select(s => (JsonNode?)s)),
        (1, Gen.Int[1, 300_000].Select(n => (JsonNode?)new string('x', n))));

    private static readonly Gen<JsonNode?> Json = Gen.Recursive<JsonNode?>((depth, self) => depth >= 3
        ? Scalar
        : Gen.Frequency(
            (3, Scalar),
            (1, self.Array[0, 4].Select(items => (JsonNode?)new JsonArray(items))),
            (2, Gen.Select(Gen.OneOf(Keys).ArrayUnique[0, 4], self.Array[4], (keys, values) =>
            {
                var obj = new JsonObject();
                for (var i = 0; i < keys.Length; i++)
                {
                    obj[keys[i]] = values[i];
                }

                return (JsonNode?)obj;
            }))));

    private static readonly Gen<TemplateModel> Model = Gen.Select(Json, Json, Json, Gen.Int[-1, 5], Gen.Bool, (input, output, item, index, parsed) =>
    {
        var variables = new Dictionary<string, JsonNode?>(StringComparer.Ordinal)
        {
            ["input"] = input,
            ["steps"] = new JsonObject { ["a"] = new JsonObject { ["output"] = output, ["status"] = "Completed" } },
            ["run"] = new JsonObject { ["id"] = "run-1" },
        };
        if (index >= 0)
        {
            variables["item"] = item;
            variables["index"] = index;
        }

        // Values built in code (as the interpreter builds them) and the same values parsed from JSON.
        return new TemplateModel(parsed ? variables.ToDictionary(v => v.Key, v => v.Value is null ? null : JsonNode.Parse(v.Value.ToJsonString())) : variables, Now);
    });

    [Fact]
    public void Rendering_returns_bounded_text_or_fails_with_a_template_exception_and_never_hangs_or_reads_files()
    {
        var rendered = 0;
        var failed = 0;

        Gen.Select(Template, Model).Sample(
            (template, model) =>
            {
                var first = Outcome(template, model);
                if (first is string text)
                {
                    Interlocked.Increment(ref rendered);
                    Assert.True(text.Length <= TemplateEngine.MaxOutputCharacters, $"{text.Length} characters");
                    Assert.DoesNotContain("root:", text);

                    // Rendering depends only on the template and the model, which is what makes it replay-safe.
                    Assert.Equal(text, Outcome(template, model));
                }
                else
                {
                    Interlocked.Increment(ref failed);
                    var error = Assert.IsType<TemplateException>(first);
                    Assert.DoesNotContain("root:", error.Message);
                }
            },
            iter: Iterations,
            print: sample => $"template: {sample.Item1}\nmodel: {string.Join(", ", sample.Item2.Variables.Select(v => $"{v.Key}={Short(v.Value)}"))}");

        Assert.True(rendered > Iterations / 5, $"only {rendered} templates rendered");
        Assert.True(failed > Iterations / 20, $"only {failed} templates failed");
    }

    [Fact]
    public void Conditions_and_values_are_booleans_and_json_or_template_exceptions()
    {
        Gen.Select(Condition, Expression, Model).Sample(
            (condition, expression, model) =>
            {
                var outcome = Run(() => TemplateEngine.EvaluateCondition(condition, model));
                Assert.True(outcome is bool or TemplateException, $"EvaluateCondition: {outcome}");
                var value = Run(() => TemplateEngine.EvaluateValue(expression, model));
                Assert.True(value is null or JsonNode or TemplateException, $"EvaluateValue: {value}");
            },
            iter: Iterations);
    }

    /// <summary>The rendered text, or the exception, of one render bounded by <see cref="SampleTimeout"/>.</summary>
    private static object Outcome(string template, TemplateModel model) => Run(() => TemplateEngine.Render(template, model))!;

    private static object? Run<T>(Func<T> evaluate)
    {
        var task = Task.Run(evaluate);
        try
        {
            Assert.True(task.Wait(SampleTimeout), $"still running after {SampleTimeout}");
            return task.Result;
        }
        catch (AggregateException ex) when (ex.InnerExceptions.Count == 1)
        {
            return ex.InnerException;
        }
    }

    private static string Short(JsonNode? node)
    {
        var json = node?.ToJsonString() ?? "null";
        return json.Length > 200 ? json[..200] + $"...({json.Length})" : json;
    }
}
