using System.Diagnostics;
using System.Text.Json.Nodes;
using Orchestrator.Core.Templates;

namespace Orchestrator.Core.Tests.Templates;

public sealed class TemplateEngineTests
{
    private static readonly DateTimeOffset Now = new(2024, 5, 6, 7, 8, 9, TimeSpan.Zero);

    private static TemplateModel Model(JsonNode? input = null, int? index = null, JsonNode? item = null)
    {
        var variables = new Dictionary<string, JsonNode?>(StringComparer.Ordinal)
        {
            ["input"] = input ?? JsonNode.Parse("""
                { "text": "hello", "n": 3, "ratio": 1.5, "flag": true, "none": null,
                  "nested": { "a": { "b": "deep" } }, "list": [1, "two", { "x": "y" }] }
                """),
            ["steps"] = JsonNode.Parse("""{ "summarize": { "output": "short", "status": "Completed" }, "classify": { "output": { "priority": "high", "tags": ["a", "b"] } } }"""),
            ["run"] = new JsonObject { ["id"] = "run-1" },
        };
        if (index is not null)
        {
            // As the interpreter does it: an int assigned to a JsonNode, not a parsed JSON number.
            variables["index"] = index.Value;
            variables["item"] = item;
        }

        return new TemplateModel(variables, Now);
    }

    [Theory]
    [InlineData("{{ input.text }}", "hello")]
    [InlineData("{{ input.n }}", "3")]
    [InlineData("{{ input.ratio }}", "1.5")]
    [InlineData("{{ input.flag }}", "true")]
    [InlineData("[{{ input.none }}]", "[]")]
    [InlineData("{{ input.nested.a.b }}", "deep")]
    [InlineData("{{ input.list[1] }} {{ input.list[2].x }} {{ input.list.size }} {{ input.list.first }}", "two y 3 1")]
    [InlineData("{% for v in input.list %}<{{ forloop.index }}:{{ v.x | default: v }}>{% endfor %}", "<1:1><2:two><3:y>")]
    [InlineData("{{ input.nested | json }}", """{"a":{"b":"deep"}}""")]
    [InlineData("{{ input.list | json }}", """[1,"two",{"x":"y"}]""")]
    [InlineData("{{ steps.summarize.output }}/{{ steps.summarize.status }}", "short/Completed")]
    [InlineData("{{ steps.classify.output.priority }} {{ steps.classify.output.tags | join: '+' }}", "high a+b")]
    [InlineData("{{ run.id }}", "run-1")]
    [InlineData("{{ input.text | upcase | append: '!' }}", "HELLO!")]
    public void Each_variable_of_the_model_renders_its_value(string template, string expected)
    {
        Assert.Equal(expected, TemplateEngine.Render(template, Model()));
    }

    [Fact]
    public void Item_and_index_render_inside_a_map_including_an_index_that_was_built_from_an_int()
    {
        var model = Model(index: 2, item: JsonNode.Parse("""{ "name": "doc", "pages": [10, 20] }"""));

        var rendered = TemplateEngine.Render("{{ index }}:{{ index | plus: 1 }}:{{ item.name }}:{{ item.pages[1] }}:{{ item.pages | json }}", model);

        Assert.Equal("2:3:doc:20:[10,20]", rendered);
    }

    [Theory]
    [InlineData("steps.classify.output.priority == \"high\"", true)]
    [InlineData("steps.classify.output.priority == \"low\"", false)]
    [InlineData("input.n > 2 and input.flag", true)]
    [InlineData("input.n > 5 or input.none", false)]
    [InlineData("input.list contains \"two\"", true)]
    [InlineData("steps.classify.output.tags contains \"c\"", false)]
    [InlineData("input.missing", false)]
    [InlineData("input.missing == nil", true)]
    [InlineData("input.text != blank", true)]
    public void Conditions_are_evaluated_against_the_model(string condition, bool expected)
    {
        Assert.Equal(expected, TemplateEngine.EvaluateCondition(condition, Model()));
    }

    [Theory]
    [InlineData("input.list", """[1,"two",{"x":"y"}]""")]
    [InlineData("input.nested", """{"a":{"b":"deep"}}""")]
    [InlineData("steps.classify.output", """{"priority":"high","tags":["a","b"]}""")]
    [InlineData("input.n", "3")]
    [InlineData("input.ratio", "1.5")]
    [InlineData("input.flag", "true")]
    [InlineData("input.text", "\"hello\"")]
    [InlineData("input.n | plus: 4", "7")]
    [InlineData("input.list | size", "3")]
    public void Values_keep_their_json_shape(string expression, string expectedJson)
    {
        var value = TemplateEngine.EvaluateValue(expression, Model());

        Assert.True(JsonNode.DeepEquals(JsonNode.Parse(expectedJson), value), $"{expression} gave {value?.ToJsonString() ?? "null"}");
    }

    [Fact]
    public void A_missing_value_evaluates_to_null()
    {
        Assert.Null(TemplateEngine.EvaluateValue("input.missing", Model()));
    }

    [Fact]
    public void An_expression_that_is_not_one_value_fails_as_a_template_error()
    {
        Assert.Throws<TemplateException>(() => TemplateEngine.EvaluateValue("1 }}x{{ 2", Model()));
    }

    [Fact]
    public void Now_is_the_model_clock_so_a_replayed_render_gives_the_same_text()
    {
        const string Template = "{{ 'now' | date: '%Y-%m-%d %H:%M:%S' }} {{ 'now' | date: '%s' }}";
        var later = Model() with { Now = Now.AddDays(1).AddHours(2) };

        Assert.Equal("2024-05-06 07:08:09 1714979289", TemplateEngine.Render(Template, Model()));
        Assert.Equal("2024-05-06 07:08:09 1714979289", TemplateEngine.Render(Template, Model()));
        Assert.Equal("2024-05-07 09:08:09 1715072889", TemplateEngine.Render(Template, later));
    }

    [Theory]
    [InlineData("{% include 'x' %}")]
    [InlineData("{% render 'x' %}")]
    [InlineData("{% include '/etc/passwd' %}")]
    [InlineData("{% render '/etc/hostname' %}")]
    [InlineData("{%- include '../../../../etc/passwd' -%}")]
    [InlineData("{% liquid include 'x' %}")]
    public void Templates_cannot_read_files(string template)
    {
        var error = Assert.Throws<TemplateException>(() => TemplateEngine.Render(template, Model()));

        Assert.Contains("Unknown tag", error.Message);
        Assert.DoesNotContain("root:", error.Message);
    }

    [Fact]
    public void An_enormous_loop_stops_at_the_step_limit_instead_of_running_for_hours()
    {
        var clock = Stopwatch.StartNew();

        var error = Assert.Throws<TemplateException>(() =>
            TemplateEngine.Render("{% for i in (1..100000) %}{% for j in (1..100000) %}{{ j }}{% endfor %}{% endfor %}", Model()));

        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(10), $"took {clock.Elapsed}");
        Assert.Equal($"template exceeded its limits of {TemplateEngine.MaxSteps} steps and {TemplateEngine.MaxRecursion} nested loops", error.Message);
    }

    [Fact]
    public void Output_up_to_the_limit_renders_and_one_character_more_fails()
    {
        var kilo = new JsonObject { ["kilo"] = new string('x', 1000) };
        var model = Model(kilo);

        var rendered = TemplateEngine.Render("{% for i in (1..1000) %}{{ input.kilo }}{% endfor %}", model);
        var error = Assert.Throws<TemplateException>(() => TemplateEngine.Render("{% for i in (1..1000) %}{{ input.kilo }}{% endfor %}!", model));

        Assert.Equal(TemplateEngine.MaxOutputCharacters, rendered.Length);
        Assert.Contains($"exceeds {TemplateEngine.MaxOutputCharacters} characters", error.Message);
    }

    [Theory]
    [InlineData("{% assign s = 'xxxxxxxxxx' %}{% for i in (1..40) %}{% assign s = s | append: s %}{% endfor %}{{ s | size }}")]
    [InlineData("{% assign a = '1,2' | split: ',' %}{% for i in (1..40) %}{% assign a = a | concat: a %}{% endfor %}{{ a | size }}")]
    [InlineData("{% capture s %}xxxxxxxxxx{% endcapture %}{% for i in (1..40) %}{% capture s %}{{ s }}{{ s }}{% endcapture %}{% endfor %}")]
    public void A_variable_that_doubles_in_a_loop_fails_before_it_exhausts_memory(string template)
    {
        var error = Assert.Throws<TemplateException>(() => TemplateEngine.Render(template, Model()));

        Assert.Contains("would exceed", error.Message);
    }

    [Theory]
    [InlineData("{{ input.text | nofilter }}", "nofilter")]
    [InlineData("{{ input.text | upcse }}", "upcse")]
    [InlineData("{{ 1 | money }}", "money")]
    public void An_unknown_filter_fails_instead_of_being_ignored(string template, string filter)
    {
        var error = Assert.Throws<TemplateException>(() => TemplateEngine.Render(template, Model()));

        Assert.Contains(filter, error.Message);
        Assert.True(TemplateEngine.TryParse(template, out _, out _), "an unknown filter is a render failure, the validator reports it earlier");
        Assert.DoesNotContain(filter, TemplateEngine.FilterNames);
    }

    [Fact]
    public void Loops_nested_deeper_than_the_recursion_limit_fail()
    {
        string Nested(int depth) => string.Concat(Enumerable.Repeat("{% for i in (1..1) %}", depth)) + "x" + string.Concat(Enumerable.Repeat("{% endfor %}", depth));

        Assert.Equal("x", TemplateEngine.Render(Nested(TemplateEngine.MaxRecursion - 2), Model()));
        var error = Assert.Throws<TemplateException>(() => TemplateEngine.Render(Nested(TemplateEngine.MaxRecursion + 1), Model()));
        Assert.Contains("nested loops", error.Message);
    }

    public static TheoryData<string, string> DeepTemplates => new()
    {
        { "nested if", string.Concat(Enumerable.Repeat("{% if true %}", 5000)) + "x" + string.Concat(Enumerable.Repeat("{% endif %}", 5000)) },
        { "nested for", string.Concat(Enumerable.Repeat("{% for i in (1..1) %}", 5000)) + "x" + string.Concat(Enumerable.Repeat("{% endfor %}", 5000)) },
        { "nested capture", string.Concat(Enumerable.Repeat("{% capture c %}", 5000)) + string.Concat(Enumerable.Repeat("{% endcapture %}", 5000)) },
        { "parentheses", "{{ " + new string('(', 20_000) + "1" + new string(')', 20_000) + " }}" },
        { "indexers", "{{ " + string.Concat(Enumerable.Repeat("a[", 5000)) + "1" + new string(']', 5000) + " }}" },
        { "filter chain", "{{ 1" + string.Concat(Enumerable.Repeat(" | plus: 1", 20_000)) + " }}" },
        { "or chain", "{% if " + string.Join(" or ", Enumerable.Repeat("false", 20_000)) + " %}y{% endif %}" },
    };

    [Theory]
    [MemberData(nameof(DeepTemplates))]
    public void Deeply_nested_templates_fail_cleanly_instead_of_overflowing_the_stack(string shape, string template)
    {
        // Run where the stack is as small as a thread-pool thread's, so a missing guard crashes this test host.
        Exception? caught = null;
        var thread = new Thread(() => caught = Record.Exception(() => TemplateEngine.Render(template, Model())), 1024 * 1024);
        thread.Start();
        thread.Join();

        var error = Assert.IsType<TemplateException>(caught);
        Assert.Contains("nests more than", error.Message);
        Assert.False(TemplateEngine.TryParse(template, out _, out _), shape);
    }

    [Fact]
    public void A_template_nested_within_the_limit_renders()
    {
        var template = string.Concat(Enumerable.Repeat("{% if true %}", 20)) + "{{ ((((1)))) | plus: 1 | times: 2 }}" + string.Concat(Enumerable.Repeat("{% endif %}", 20));

        Assert.Equal("4", TemplateEngine.Render(template, Model()));
    }

    [Theory]
    [InlineData("{{ 1 | divided_by: 0 }}")]
    [InlineData("{{ 1 | modulo: 0 }}")]
    [InlineData("{{ 'abc' | slice: 99999999999 }}")]
    [InlineData("{{ 'a' | base64_decode }}")]
    [InlineData("{{ 3 | round: 99999 }}")]
    [InlineData("{{ -99999999999999 | date: '%Y' }}")]
    [InlineData("{{ input.list | map: 'x' | sum }}")]
    public void A_filter_that_throws_is_reported_as_a_template_error(string template)
    {
        var error = Assert.Throws<TemplateException>(() => TemplateEngine.Render(template, Model()));

        Assert.StartsWith("template failed to render", error.Message);
        Assert.NotNull(error.InnerException);
    }

    [Theory]
    [InlineData("Hello {{ input.text ")]
    [InlineData("{% if input.flag %}unclosed")]
    [InlineData("{% endfor %}")]
    [InlineData("{% macro m() %}{% endmacro %}")]
    public void A_template_that_does_not_parse_fails_with_the_parser_message(string template)
    {
        var error = Assert.Throws<TemplateException>(() => TemplateEngine.Render(template, Model()));

        Assert.StartsWith("template does not parse", error.Message);
    }
}
