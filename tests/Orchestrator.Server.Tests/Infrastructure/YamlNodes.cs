using YamlDotNet.RepresentationModel;

namespace Orchestrator.Server.Tests.Infrastructure;

/// <summary>YAML files (the compose file, Kubernetes manifests) as trees, and the few look-ups the tests make on them.</summary>
internal static class YamlNodes
{
    /// <summary>Every document of the file (a Kubernetes manifest may hold several); aliases are resolved.</summary>
    public static IReadOnlyList<YamlMappingNode> LoadAll(string path)
    {
        var stream = new YamlStream();
        using (var reader = new StreamReader(path))
        {
            try
            {
                stream.Load(reader);
            }
            catch (YamlDotNet.Core.YamlException e)
            {
                throw new InvalidDataException($"{path} is not valid YAML at line {e.Start.Line}, column {e.Start.Column}: {e.Message}", e);
            }
        }

        return stream.Documents.Select(d => d.RootNode).OfType<YamlMappingNode>().ToList();
    }

    public static YamlMappingNode Load(string path) => LoadAll(path) switch
    {
        [var single] => single,
        var all => throw new InvalidDataException($"{path}: expected one YAML document, found {all.Count}"),
    };

    public static YamlNode? Get(this YamlNode? node, string key) =>
        node is YamlMappingNode map && map.Children.TryGetValue(new YamlScalarNode(key), out var value) ? value : null;

    /// <summary>Follows a path of keys through nested mappings; null where one is missing.</summary>
    public static YamlNode? At(this YamlNode? node, params string[] path) => path.Aggregate(node, (current, key) => current.Get(key));

    public static YamlMappingNode? Map(this YamlNode? node, params string[] path) => node.At(path) as YamlMappingNode;

    public static IReadOnlyList<YamlNode> Items(this YamlNode? node, params string[] path) =>
        node.At(path) is YamlSequenceNode sequence ? sequence.Children.ToList() : [];

    public static string? Text(this YamlNode? node, params string[] path) => (node.At(path) as YamlScalarNode)?.Value;

    /// <summary>A mapping of scalars (labels, a ConfigMap's data) as a dictionary.</summary>
    public static IReadOnlyDictionary<string, string> Scalars(this YamlNode? node, params string[] path) =>
        node.At(path) is YamlMappingNode map
            ? map.Children.ToDictionary(c => ((YamlScalarNode)c.Key).Value!, c => (c.Value as YamlScalarNode)?.Value ?? string.Empty, StringComparer.Ordinal)
            : new Dictionary<string, string>(StringComparer.Ordinal);

    public static IEnumerable<string> Keys(this YamlNode? node, params string[] path) =>
        node.At(path) is YamlMappingNode map ? map.Children.Keys.Select(k => ((YamlScalarNode)k).Value!) : [];
}
