using Microsoft.Extensions.Configuration;
using NetEscapades.Configuration.Yaml;
using YamlDotNet.Core;

namespace Orchestrator.Core.Hosting;

/// <summary>Adds the operator's YAML file to the configuration, in the runbook's order of precedence.</summary>
public static class OrchestratorConfigurationExtensions
{
    /// <summary>The file the runbook names; a missing file is fine.</summary>
    public const string DefaultConfigFile = "/etc/llm-orchestrator/config.yaml";

    /// <summary>Environment variable (or command-line key) naming another file; a file named this way must exist.</summary>
    public const string ConfigFileVariable = "ORCHESTRATOR_CONFIG";

    /// <summary>
    /// defaults &lt; appsettings*.json &lt; the YAML file &lt; environment variables &lt; command line. A file that is not
    /// valid YAML stops the process with a message naming the file and the line. Last, a Key Vault reference that Azure
    /// could not resolve reads as unset (<see cref="UnresolvedSecretReferences"/>).
    /// </summary>
    public static IConfigurationBuilder AddOrchestratorConfiguration(this IConfigurationBuilder builder)
    {
        var named = (builder as IConfiguration)?[ConfigFileVariable] ?? Environment.GetEnvironmentVariable(ConfigFileVariable);
        var path = string.IsNullOrWhiteSpace(named) ? DefaultConfigFile : Path.GetFullPath(named);
        var source = new YamlConfigurationSource
        {
            Path = path,
            Optional = string.IsNullOrWhiteSpace(named),
            ReloadOnChange = false,
            OnLoadException = context => throw new InvalidConfigurationException($"The configuration file {path} {Describe(path, context.Exception)}", context.Exception),
        };
        source.ResolveFileProvider();
        builder.Sources.Insert(AboveFileSources(builder.Sources), source);
        builder.Add(new UnresolvedSecretReferences());
        return builder;
    }

    /// <summary>Where the file is broken: YamlDotNet says so for most errors, and a re-scan finds the place for the rest.</summary>
    private static string Describe(string path, Exception error)
    {
        for (var e = error; e is not null; e = e.InnerException)
        {
            if (e is YamlException yaml)
            {
                return $"is not valid YAML at line {yaml.Start.Line}, column {yaml.Start.Column}: {yaml.Message}";
            }
        }

        if (error is IOException or UnauthorizedAccessException)
        {
            return $"could not be read: {error.Message}";
        }

        // Some broken input (an unclosed flow sequence) makes YamlDotNet throw without a position.
        var scanner = new Scanner(new StringReader(File.ReadAllText(path)));
        try
        {
            while (scanner.MoveNext())
            {
            }
        }
        catch (Exception)
        {
            return $"is not valid YAML near line {scanner.CurrentPosition.Line}, column {scanner.CurrentPosition.Column}: {(error.InnerException ?? error).Message}";
        }

        return $"could not be loaded: {(error.InnerException ?? error).Message}";
    }

    /// <summary>Just above the last file source (appsettings), so environment variables and the command line still win.</summary>
    private static int AboveFileSources(IList<IConfigurationSource> sources)
    {
        for (var i = sources.Count - 1; i >= 0; i--)
        {
            if (sources[i] is FileConfigurationSource)
            {
                return i + 1;
            }
        }

        for (var i = 0; i < sources.Count; i++)
        {
            if (sources[i] is Microsoft.Extensions.Configuration.EnvironmentVariables.EnvironmentVariablesConfigurationSource { Prefix: null or "" }
                or Microsoft.Extensions.Configuration.CommandLine.CommandLineConfigurationSource)
            {
                return i;
            }
        }

        return sources.Count;
    }
}
