using System.Collections.Frozen;
using System.Text.Json.Nodes;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Orchestrator.Core.Definitions;

/// <summary>
/// The named definitions loaded from the configured folder at start. A broken file stops the process at start
/// with every error and its path, rather than failing the first run that names it.
/// </summary>
public sealed class DefinitionRegistry
{
    private readonly FrozenDictionary<string, IReadOnlyList<RegisteredDefinition>> byName;

    /// <summary>Loads every definition in the configured folder; throws with every problem found.</summary>
    public static DefinitionRegistry FromFolder(IOptions<DefinitionOptions> options, ILogger<DefinitionRegistry> logger) =>
        new(Load(ResolveFolder(options.Value.DefinitionsPath), logger));

    public DefinitionRegistry(IEnumerable<RegisteredDefinition> definitions)
    {
        byName = definitions
            .GroupBy(d => d.Definition.Name, StringComparer.Ordinal)
            .ToFrozenDictionary(
                g => g.Key,
                g => (IReadOnlyList<RegisteredDefinition>)g.OrderByDescending(d => d.Definition.Version).ToList(),
                StringComparer.Ordinal);
    }

    public IEnumerable<RegisteredDefinition> All => byName.Values.SelectMany(v => v);

    /// <summary>Finds <c>name</c> (latest version) or <c>name@version</c>.</summary>
    public RegisteredDefinition? Find(string reference)
    {
        var at = reference.LastIndexOf('@');
        var name = at < 0 ? reference : reference[..at];
        if (!byName.TryGetValue(name, out var versions))
        {
            return null;
        }

        if (at < 0)
        {
            return versions[0];
        }

        return int.TryParse(reference[(at + 1)..], System.Globalization.CultureInfo.InvariantCulture, out var version)
            ? versions.FirstOrDefault(d => d.Definition.Version == version)
            : null;
    }

    public IEnumerable<string> Names => byName.Keys;

    private static string ResolveFolder(string path) =>
        Path.IsPathRooted(path) ? path : Path.Combine(AppContext.BaseDirectory, path);

    private static List<RegisteredDefinition> Load(string folder, ILogger logger)
    {
        var loaded = new List<RegisteredDefinition>();
        if (!Directory.Exists(folder))
        {
            return loaded;
        }

        var problems = new List<string>();
        foreach (var file in Directory.EnumerateFiles(folder).Where(IsDefinitionFile).Order(StringComparer.Ordinal))
        {
            try
            {
                var node = DefinitionDocuments.Parse(File.ReadAllText(file), file);
                var errors = new List<DefinitionError>();
                var definition = DefinitionValidator.TryValidate(node, errors);
                if (definition is null || errors.Count > 0)
                {
                    problems.AddRange(errors.Select(e => $"{file}: {e}"));
                    continue;
                }

                loaded.Add(new RegisteredDefinition(definition, DefinitionJson.Serialize(definition), file));
                Log.DefinitionLoaded(logger, definition.Key, file);
            }
            catch (Exception ex) when (ex is System.Text.Json.JsonException or YamlDotNet.Core.YamlException or IOException)
            {
                problems.Add($"{file}: {ex.Message}");
            }
        }

        var duplicates = loaded.GroupBy(d => d.Definition.Key).Where(g => g.Count() > 1);
        problems.AddRange(duplicates.Select(g => $"{g.Key} is defined twice: {string.Join(", ", g.Select(d => d.Source))}"));
        if (problems.Count > 0)
        {
            throw new OptionsValidationException(DefinitionOptions.SectionName, typeof(DefinitionOptions), problems);
        }

        return loaded;
    }

    private static bool IsDefinitionFile(string path) =>
        Path.GetExtension(path).ToLowerInvariant() is ".json" or ".yaml" or ".yml";
}
