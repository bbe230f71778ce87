using System.Collections.Concurrent;
using System.Runtime.CompilerServices;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Fluid;
using Fluid.Ast;
using Fluid.Values;
using Parlot;
using Parlot.Fluent;

namespace Orchestrator.Core.Templates;

/// <summary>
/// Sandboxed Liquid rendering (Fluid): no file system, no network, bounded steps, recursion and output size.
/// Rendering depends only on the template and the model, so it is safe inside an orchestrator.
/// </summary>
public static class TemplateEngine
{
    public const int MaxSteps = 200_000;
    public const int MaxRecursion = 32;
    public const int MaxOutputCharacters = 1_000_000;

    /// <summary>How deeply tags, parentheses, filters and operators may nest: parsing and rendering recurse once per level.</summary>
    public const int MaxNesting = 100;
    private const int MaxCachedTemplates = 4096;

    private static readonly FluidParser Parser = CreateParser();
    private static readonly ConcurrentDictionary<string, IFluidTemplate> Cache = new(StringComparer.Ordinal);

    private static readonly TemplateOptions Options = CreateOptions();
    private static readonly HashSet<string> FilterNameSet = Options.Filters.Select(f => f.Key).ToHashSet(StringComparer.Ordinal);

    /// <summary>The filters templates may use (anything else fails: filters are strict).</summary>
    public static IReadOnlySet<string> FilterNames => FilterNameSet;

    /// <summary>Parses a template, or returns the parser's message.</summary>
    public static bool TryParse(string source, out IFluidTemplate? template, out string? error)
    {
        if (Cache.TryGetValue(source, out template))
        {
            error = null;
            return true;
        }

        if (!Parser.TryParse(source, out template, out error))
        {
            template = null;
            return false;
        }

        try
        {
            // A long filter chain or 'a and b and ...' parses flat but renders one level deeper per link.
            new NestingDepth().VisitTemplate(template);
        }
        catch (TemplateException ex)
        {
            template = null;
            error = ex.Message;
            return false;
        }

        if (Cache.Count < MaxCachedTemplates)
        {
            Cache.TryAdd(source, template);
        }

        return true;
    }

    /// <summary>Renders <paramref name="source"/> against the model; throws <see cref="TemplateException"/> on any failure.</summary>
    public static string Render(string source, TemplateModel model)
    {
        if (!TryParse(source, out var template, out var error))
        {
            throw new TemplateException($"template does not parse: {error}");
        }

        using var writer = new BoundedStringWriter(MaxOutputCharacters);
        try
        {
            var context = CreateContext(model);
            var pending = template!.RenderAsync(writer, context, NullEncoder.Default);
            if (!pending.IsCompletedSuccessfully)
            {
                // Dictionaries and lists render synchronously; this only waits on a filter that chose to be async.
                pending.AsTask().GetAwaiter().GetResult();
            }
        }
        catch (TemplateException)
        {
            throw;
        }
        catch (InvalidOperationException ex) when (ex.Message.StartsWith("The maximum level of recursion", StringComparison.Ordinal))
        {
            // Fluid raises this one message for both limits, and blames a cyclic include that cannot exist here.
            throw new TemplateException($"template exceeded its limits of {MaxSteps} steps and {MaxRecursion} nested loops", ex);
        }
        catch (Exception ex)
        {
            // Filters fail in many ways (FluidException for an unknown filter, DivideByZeroException for
            // divided_by: 0, ...); whatever the cause, it is the template that failed, not the caller.
            throw new TemplateException($"template failed to render: {ex.Message}", ex);
        }

        return writer.ToString();
    }

    /// <summary>Evaluates a Liquid condition such as <c>steps.classify.output.priority == "high"</c>.</summary>
    public static bool EvaluateCondition(string condition, TemplateModel model)
    {
        var rendered = Render("{% if " + condition + " %}true{% else %}false{% endif %}", model);
        return rendered == "true";
    }

    /// <summary>Evaluates an expression to a JSON value (arrays and objects keep their shape).</summary>
    public static JsonNode? EvaluateValue(string expression, TemplateModel model)
    {
        var rendered = Render("{{ " + expression + " | json }}", model);
        try
        {
            return JsonNode.Parse(rendered);
        }
        catch (JsonException ex)
        {
            throw new TemplateException($"'{expression}' is not a single expression: {ex.Message}", ex);
        }
    }

    private static TemplateContext CreateContext(TemplateModel model)
    {
        var context = new TemplateContext(Options);
        context.Now = () => model.Now;
        foreach (var (name, value) in model.Variables)
        {
            context.SetValue(name, ToClr(value));
        }

        return context;
    }

    private static FluidParser CreateParser()
    {
        var parser = new FluidParser(new FluidParserOptions { AllowFunctions = false, AllowParentheses = true });

        // There are no files to include or render: make these tags parse errors, so a definition that uses them is
        // rejected when it is validated rather than failing when a run reaches the step.
        parser.RegisteredTags.Remove("include");
        parser.RegisteredTags.Remove("render");
        parser.Grammar = new NestingGuard(parser.Grammar);
        return parser;
    }

    private static TemplateOptions CreateOptions()
    {
        var options = new TemplateOptions
        {
            MaxSteps = MaxSteps,
            MaxRecursion = MaxRecursion,
            StrictFilters = true,
            FileProvider = new Microsoft.Extensions.FileProviders.NullFileProvider(),
        };
        options.Now = static () => DateTimeOffset.UnixEpoch;

        // MaxSteps bounds time, not memory: '{% assign s = s | append: s %}' doubles s at every step of a loop.
        options.Assigned = static (name, value, _) => Bounded(name, value);
        options.Captured = static (name, value, _) => Bounded(name, value);
        return options;
    }

    private static ValueTask<FluidValue> Bounded(string name, FluidValue value)
    {
        var size = value switch
        {
            StringValue text => text.ToStringValue().Length,
            ArrayValue array => array.Values.Count,
            _ => 0,
        };
        if (size > MaxOutputCharacters)
        {
            throw new TemplateException($"variable '{name}' would exceed {MaxOutputCharacters} characters or items");
        }

        return new ValueTask<FluidValue>(value);
    }

    /// <summary>Turns JSON into the dictionaries, lists and primitives Fluid knows how to walk.</summary>
    internal static object? ToClr(JsonNode? node) => node switch
    {
        null => null,
        JsonObject obj => obj.ToDictionary(p => p.Key, p => ToClr(p.Value), StringComparer.Ordinal),
        JsonArray array => array.Select(ToClr).ToList(),
        JsonValue value => value.GetValueKind() switch
        {
            JsonValueKind.String => value.GetValue<string>(),
            JsonValueKind.True => true,
            JsonValueKind.False => false,
            // A value built in code (JsonValue.Create(3), an int assigned to a JsonNode) only converts to its own CLR type,
            // so numbers are read from their JSON text.
            JsonValueKind.Number => Number(value.ToJsonString()),
            _ => null,
        },
        _ => null,
    };

    private static object Number(string json) =>
        long.TryParse(json, System.Globalization.NumberStyles.AllowLeadingSign, System.Globalization.CultureInfo.InvariantCulture, out var integer)
            ? integer
            : double.Parse(json, System.Globalization.NumberStyles.Float, System.Globalization.CultureInfo.InvariantCulture);

    private static TemplateException TooDeep() =>
        new($"template nests more than {MaxNesting} levels deep (each tag, parenthesis, filter and operator adds one)");

    /// <summary>
    /// Stops the parser before deeply nested tags or parentheses overflow the stack: a StackOverflowException
    /// cannot be caught, so one definition would take the whole process down.
    /// </summary>
    private sealed class NestingGuard(Parser<IReadOnlyList<Statement>> grammar) : Parser<IReadOnlyList<Statement>>
    {
        // The parser recurses about a dozen times per level of nesting.
        private const int MaxParserDepth = MaxNesting * 12;

        public override bool Parse(ParseContext context, ref ParseResult<IReadOnlyList<Statement>> result)
        {
            var depth = 0;
            context.OnEnterParser = (_, _) =>
            {
                if (++depth > MaxParserDepth)
                {
                    throw TooDeep();
                }

                RuntimeHelpers.EnsureSufficientExecutionStack();
            };
            context.OnExitParser = (_, _) => depth--;
            return grammar.Parse(context, ref result);
        }
    }

    /// <summary>Rejects a parsed template whose statements and expressions nest deeper than <see cref="MaxNesting"/>.</summary>
    private sealed class NestingDepth : AstVisitor
    {
        private int depth;

        public override Statement Visit(Statement statement)
        {
            Enter();
            try
            {
                return base.Visit(statement);
            }
            finally
            {
                depth--;
            }
        }

        public override Expression Visit(Expression expression)
        {
            Enter();
            try
            {
                return base.Visit(expression);
            }
            finally
            {
                depth--;
            }
        }

        private void Enter()
        {
            if (++depth > MaxNesting)
            {
                throw TooDeep();
            }
        }
    }

    private sealed class BoundedStringWriter(int limit) : StringWriter(System.Globalization.CultureInfo.InvariantCulture)
    {
        private readonly StringBuilder builder = new();

        public override void Write(char value)
        {
            Check(1);
            builder.Append(value);
        }

        public override void Write(string? value)
        {
            if (value is null)
            {
                return;
            }

            Check(value.Length);
            builder.Append(value);
        }

        public override void Write(char[] buffer, int index, int count)
        {
            Check(count);
            builder.Append(buffer, index, count);
        }

        public override void Write(ReadOnlySpan<char> buffer)
        {
            Check(buffer.Length);
            builder.Append(buffer);
        }

        public override string ToString() => builder.ToString();

        private void Check(int more)
        {
            if (builder.Length + more > limit)
            {
                throw new TemplateException($"template output exceeds {limit} characters");
            }
        }
    }
}
