using Microsoft.Extensions.Configuration;

namespace Orchestrator.Core.Hosting;

/// <summary>
/// On Azure an app setting <c>@Microsoft.KeyVault(...)</c> is replaced by the secret's value; when the secret does
/// not exist (an optional channel never set up) or cannot be read, the app sees the reference text itself. That text
/// must never pass for a value: as an admin token or API key it would be a guessable credential, as a webhook URL a
/// channel that fails forever. This source, added last, makes every such setting read as unset (empty), so a required
/// secret stops the start with its own name and an optional one stays off; <see cref="Keys"/> lists them for the log.
/// </summary>
public sealed class UnresolvedSecretReferences : ConfigurationProvider, IConfigurationSource
{
    public const string ReferencePrefix = "@Microsoft.KeyVault(";

    private IConfigurationRoot? earlier;

    /// <summary>The keys whose value was an unresolved reference when the configuration was loaded.</summary>
    public IReadOnlyList<string> Keys { get; private set; } = [];

    /// <summary>
    /// Needs a <see cref="ConfigurationManager"/> (what both hosts' builders use): it is the builder and the
    /// configuration of the sources added before this one. A plain builder would have to build this source again to
    /// read the others.
    /// </summary>
    public IConfigurationProvider Build(IConfigurationBuilder builder)
    {
        earlier = builder as IConfigurationRoot
            ?? throw new InvalidOperationException($"{nameof(UnresolvedSecretReferences)} must be added to a ConfigurationManager, not a {builder.GetType().Name}");
        return this;
    }

    /// <summary>Reads the other providers one by one (not the merged view, which includes this one after a reload).</summary>
    public override void Load()
    {
        var providers = (earlier ?? throw new InvalidOperationException("not built")).Providers.Where(p => !ReferenceEquals(p, this)).ToList();
        var effective = new Dictionary<string, string?>(StringComparer.OrdinalIgnoreCase);
        foreach (var provider in providers)
        {
            foreach (var key in KeysOf(provider, null))
            {
                if (provider.TryGet(key, out var value))
                {
                    effective[key] = value;
                }
            }
        }

        Keys = effective
            .Where(pair => pair.Value?.TrimStart().StartsWith(ReferencePrefix, StringComparison.OrdinalIgnoreCase) == true)
            .Select(pair => pair.Key)
            .Order(StringComparer.Ordinal)
            .ToList();
        Data = Keys.ToDictionary(key => key, _ => (string?)string.Empty, StringComparer.OrdinalIgnoreCase);
    }

    private static IEnumerable<string> KeysOf(IConfigurationProvider provider, string? parent)
    {
        foreach (var child in provider.GetChildKeys([], parent).Distinct(StringComparer.OrdinalIgnoreCase))
        {
            var key = parent is null ? child : ConfigurationPath.Combine(parent, child);
            yield return key;
            foreach (var below in KeysOf(provider, key))
            {
                yield return below;
            }
        }
    }

    /// <summary>The keys found by this source in <paramref name="configuration"/>, if it is there.</summary>
    public static IReadOnlyList<string> In(IConfiguration configuration) =>
        (configuration as IConfigurationRoot)?.Providers.OfType<UnresolvedSecretReferences>().SelectMany(p => p.Keys).ToList() ?? [];
}
