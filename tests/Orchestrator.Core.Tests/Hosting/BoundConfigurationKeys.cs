using System.ComponentModel;
using System.Reflection;
using System.Text.RegularExpressions;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Orchestrator.Core.Tests.Hosting;

/// <summary>
/// Every configuration key a host's code binds through an options class, found by running its registrations against
/// a configuration that records which sections are asked for: each options class registered is resolved, its section
/// found, and its properties walked. A direct read (<c>configuration["OPENAI_API_KEY"]</c>) or a section bound outside
/// the container (<c>Logging:Format</c>, bound before the host exists) is not seen: callers name those. Keys are returned in
/// configuration form (<c>Monitors:ReplicaLag:Schedule</c>); a member of a collection whose names the user chooses
/// (<c>Llm:Providers:&lt;name&gt;:Endpoint</c>, <c>Auth:ApiKeys:&lt;name&gt;</c>) is returned with <c>*</c> for the name.
/// </summary>
public static class BoundConfigurationKeys
{
    public const string Wildcard = "*";

    /// <summary>Keys bound by <paramref name="register"/> (e.g. <c>(services, configuration) =&gt; services.AddOrchestratorCore(configuration)</c>).</summary>
    public static IReadOnlySet<string> Collect(Action<IServiceCollection, IConfiguration> register)
    {
        var keys = new HashSet<string>(StringComparer.OrdinalIgnoreCase);
        foreach (var (type, section) in OptionsSections(register))
        {
            AddKeys(type, section, keys, depth: 0);
        }

        return keys;
    }

    /// <summary>
    /// Each of the product's options classes that <paramref name="register"/> binds, with its section: binding one
    /// against an empty configuration asks for its own section's children first.
    /// </summary>
    public static IEnumerable<(Type Type, string Section)> OptionsSections(Action<IServiceCollection, IConfiguration> register)
    {
        var services = new ServiceCollection();
        register(services, new ConfigurationBuilder().Build());
        var types = services
            .Select(d => d.ServiceType)
            .Where(t => t.IsGenericType && t.GetGenericTypeDefinition() == typeof(IConfigureOptions<>))
            .Select(t => t.GetGenericArguments()[0])
            .Where(t => t.Assembly.GetName().Name?.StartsWith("Orchestrator.", StringComparison.Ordinal) == true)
            .Distinct();
        foreach (var type in types)
        {
            var recorder = Record(register, type);
            if (recorder.Sections.FirstOrDefault() is { } section)
            {
                yield return (type, section);
            }
        }
    }

    private static void AddKeys(Type type, string prefix, HashSet<string> keys, int depth)
    {
        if (depth > 8)
        {
            throw new InvalidOperationException($"options nested too deep at {prefix}");
        }

        foreach (var property in type.GetProperties(BindingFlags.Public | BindingFlags.Instance))
        {
            if (property.GetIndexParameters().Length > 0)
            {
                continue;
            }

            var name = property.GetCustomAttribute<ConfigurationKeyNameAttribute>()?.Name ?? property.Name;
            var key = $"{prefix}:{name}";
            var propertyType = Nullable.GetUnderlyingType(property.PropertyType) ?? property.PropertyType;
            var settable = property.SetMethod?.IsPublic == true;
            if (IsScalar(propertyType))
            {
                if (settable)
                {
                    keys.Add(key);
                }
            }
            else if (ElementType(propertyType) is { } element)
            {
                // The binder fills a collection through its setter or, when there is none, the instance it finds.
                var member = $"{key}:{Wildcard}";
                if (IsScalar(Nullable.GetUnderlyingType(element) ?? element))
                {
                    keys.Add(member);
                }
                else
                {
                    AddKeys(element, member, keys, depth + 1);
                }
            }
            else if (propertyType.IsClass && (settable || property.GetMethod?.IsPublic == true))
            {
                AddKeys(propertyType, key, keys, depth + 1);
            }
        }
    }

    private static bool IsScalar(Type type) =>
        type.IsPrimitive || type.IsEnum || type == typeof(string) || type == typeof(decimal) || type == typeof(TimeSpan) ||
        type == typeof(DateTimeOffset) || type == typeof(DateTime) || type == typeof(Uri) || type == typeof(Guid) ||
        TypeDescriptor.GetConverter(type).CanConvertFrom(typeof(string));

    /// <summary>The member type of a dictionary keyed by name, a list or an array; null for anything else.</summary>
    private static Type? ElementType(Type type)
    {
        if (type.IsArray)
        {
            return type.GetElementType();
        }

        var generic = type.IsGenericType ? type : null;
        var dictionary = type.GetInterfaces().Append(type).FirstOrDefault(i => i.IsGenericType && i.GetGenericTypeDefinition() == typeof(IDictionary<,>));
        if (dictionary is not null)
        {
            return dictionary.GetGenericArguments()[1];
        }

        var enumerable = type.GetInterfaces().Append(type).FirstOrDefault(i => i.IsGenericType && i.GetGenericTypeDefinition() == typeof(IEnumerable<>));
        return enumerable is not null && type != typeof(string) ? enumerable.GetGenericArguments()[0] : null;
    }

    /// <summary>
    /// Whether a setting or variable holds a credential (<c>Auth:AdminToken</c>, <c>Auth__ApiKeys__ci</c>,
    /// <c>Llm__ApiKey</c>, <c>OPENAI_API_KEY</c>, <c>POSTGRES_PASSWORD</c>, a webhook URL, a signing secret, a routing key):
    /// it must never be written out in a committed file. Connection strings are told apart by
    /// <see cref="IsConnectionString"/>, because only a password inside them is secret.
    /// </summary>
    public static bool IsSecret(string name)
    {
        var flat = Regex.Replace(name, "[:_]", string.Empty).ToLowerInvariant();
        return flat.Contains("apikeys", StringComparison.Ordinal) ||
            SecretEndings.Any(ending => flat.EndsWith(ending, StringComparison.Ordinal));
    }

    public static bool IsConnectionString(string name) => Regex.Replace(name, "[:_]", string.Empty).EndsWith("connectionstring", StringComparison.OrdinalIgnoreCase);

    private static readonly string[] SecretEndings = ["token", "apikey", "password", "secret", "routingkey", "webhookurl"];

    /// <summary><c>Monitors:ReplicaLag:Schedule</c> ↔ <c>Monitors__ReplicaLag__Schedule</c> (environment variables, app settings).</summary>
    public static string ToEnvironmentName(string key) => key.Replace(":", "__", StringComparison.Ordinal);

    public static string FromEnvironmentName(string name) => name.Replace("__", ":", StringComparison.Ordinal);

    /// <summary>Whether <paramref name="key"/> is <paramref name="pattern"/>, a <c>*</c> segment matching any one name.</summary>
    public static bool Matches(string pattern, string key) =>
        Regex.IsMatch(key, "^" + string.Join(":", pattern.Split(':').Select(s => s == Wildcard ? "[^:]+" : Regex.Escape(s))) + "$", RegexOptions.IgnoreCase);

    private static Recorder Record(Action<IServiceCollection, IConfiguration> register, Type optionsType)
    {
        var recorder = new Recorder();
        var configuration = new ConfigurationBuilder().Add(recorder).Build();
        var services = new ServiceCollection();
        services.AddLogging();
        services.AddSingleton<IConfiguration>(configuration);
        register(services, configuration);

        using var provider = services.BuildServiceProvider();
        var monitor = provider.GetRequiredService(typeof(IOptionsMonitor<>).MakeGenericType(optionsType));
        try
        {
            monitor.GetType().GetMethod(nameof(IOptionsMonitor<object>.Get))!.Invoke(monitor, [Options.DefaultName]);
        }
        catch (TargetInvocationException)
        {
            // Validation refuses the empty configuration; the section was asked for before that.
        }

        return recorder;
    }

    /// <summary>An empty configuration that remembers, in order, which sections were asked for their children.</summary>
    private sealed class Recorder : ConfigurationProvider, IConfigurationSource
    {
        public List<string> Sections { get; } = [];

        public override IEnumerable<string> GetChildKeys(IEnumerable<string> earlierKeys, string? parentPath)
        {
            if (parentPath is not null)
            {
                if (!Sections.Contains(parentPath, StringComparer.OrdinalIgnoreCase))
                {
                    Sections.Add(parentPath);
                }
            }

            return base.GetChildKeys(earlierKeys, parentPath);
        }

        public IConfigurationProvider Build(IConfigurationBuilder builder) => this;
    }
}
