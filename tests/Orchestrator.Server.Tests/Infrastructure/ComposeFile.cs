using System.Globalization;
using System.Text.RegularExpressions;
using YamlDotNet.RepresentationModel;

namespace Orchestrator.Server.Tests.Infrastructure;

/// <summary>A docker-compose file's services, environments, ports and durations, as docker-compose reads them.</summary>
internal sealed class ComposeFile
{
    private ComposeFile(YamlMappingNode root) => Root = root;

    public YamlMappingNode Root { get; }

    public static ComposeFile Load(string path) => new(YamlNodes.Load(path));

    public IEnumerable<string> ServiceNames => Root.Keys("services");

    public YamlMappingNode Service(string name) =>
        Root.Map("services", name) ?? throw new KeyNotFoundException($"docker-compose.yml has no service '{name}'");

    /// <summary>A service's <c>environment</c>, written as a mapping or as a list of <c>KEY=value</c>.</summary>
    public IReadOnlyDictionary<string, string> Environment(string service)
    {
        var node = Service(service).Get("environment");
        if (node is YamlSequenceNode list)
        {
            return list.Children.Select(i => ((YamlScalarNode)i).Value!.Split('=', 2))
                .ToDictionary(p => p[0], p => p.Length > 1 ? p[1] : string.Empty, StringComparer.Ordinal);
        }

        return node.Scalars();
    }

    /// <summary>Published ports, short (<c>[ip:]host:container</c>) or long syntax.</summary>
    public IReadOnlyList<(string? HostIp, int? Published, int Target)> Ports(string service)
    {
        var ports = new List<(string?, int?, int)>();
        foreach (var item in Service(service).Items("ports"))
        {
            if (item is YamlScalarNode { Value: { } text })
            {
                var parts = text.Split('/')[0].Split(':');
                ports.Add(parts switch
                {
                    [var target] => (null, null, Port(target)),
                    [var published, var target] => (null, Port(published), Port(target)),
                    [.. var ip, var published, var target] => (string.Join(':', ip), Port(published), Port(target)),
                    _ => throw new InvalidDataException($"docker-compose.yml: port '{text}'"),
                });
            }
            else
            {
                ports.Add((item.Text("host_ip"), item.Text("published") is { } published ? Port(published) : null, Port(item.Text("target")!)));
            }
        }

        return ports;
    }

    private static int Port(string text) => int.Parse(text, CultureInfo.InvariantCulture);

    /// <summary>A <c>${NAME}</c>, <c>${NAME:?message}</c>, <c>${NAME:-default}</c> … reference to the .env file or the shell.</summary>
    public sealed record Variable(string Name, string Operator, string Argument);

    private static readonly Regex VariablePattern = new(@"(?<!\$)\$\{(?<name>[A-Za-z_][A-Za-z0-9_]*)(?:(?<op>:?[-?+])(?<arg>[^}]*))?\}|(?<!\$)\$(?<bare>[A-Za-z_][A-Za-z0-9_]*)");

    public static IReadOnlyList<Variable> Variables(string value) =>
        VariablePattern.Matches(value)
            .Select(m => m.Groups["bare"].Success
                ? new Variable(m.Groups["bare"].Value, string.Empty, string.Empty)
                : new Variable(m.Groups["name"].Value, m.Groups["op"].Value, m.Groups["arg"].Value))
            .ToList();

    /// <summary>The value with every variable reference removed: what is written literally in the file.</summary>
    public static string Literal(string value) => VariablePattern.Replace(value, string.Empty).Replace("$$", "$", StringComparison.Ordinal);

    /// <summary>Whether the whole value is one variable reference whose fallback, if any, is empty.</summary>
    public static bool IsOnlyVariable(string value) =>
        Literal(value).Length == 0 && Variables(value) is [var v] && (v.Operator is not ("-" or ":-") || v.Argument.Length == 0);

    /// <summary>A compose duration (<c>2m30s</c>, <c>90s</c>, <c>1m</c>, <c>500ms</c>).</summary>
    public static TimeSpan Duration(string text)
    {
        var total = TimeSpan.Zero;
        var matches = Regex.Matches(text, @"(\d+(?:\.\d+)?)(ms|us|h|m|s)");
        if (matches.Sum(m => m.Length) != text.Length)
        {
            throw new FormatException($"not a compose duration: '{text}'");
        }

        foreach (Match m in matches)
        {
            var n = double.Parse(m.Groups[1].Value, CultureInfo.InvariantCulture);
            total += m.Groups[2].Value switch
            {
                "h" => TimeSpan.FromHours(n),
                "m" => TimeSpan.FromMinutes(n),
                "s" => TimeSpan.FromSeconds(n),
                "ms" => TimeSpan.FromMilliseconds(n),
                _ => TimeSpan.FromMicroseconds(n),
            };
        }

        return total;
    }
}
