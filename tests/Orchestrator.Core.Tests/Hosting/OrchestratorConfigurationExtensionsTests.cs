using Microsoft.Extensions.Configuration;
using Orchestrator.Core.Hosting;

namespace Orchestrator.Core.Tests.Hosting;

/// <summary>The YAML file sits above appsettings and below everything added after the files (environment, command line).</summary>
public sealed class OrchestratorConfigurationExtensionsTests : IDisposable
{
    private readonly string folder = Directory.CreateTempSubdirectory("orch-yaml-").FullName;

    public void Dispose() => Directory.Delete(folder, recursive: true);

    [Fact]
    public void The_YAML_file_overrides_appsettings_and_is_overridden_by_later_sources()
    {
        var appsettings = Write("appsettings.json", """{ "Postgres": { "MaxPoolSize": 10, "MinPoolSize": 1 }, "Llm": { "Model": "from-json" } }""");
        var yaml = Write("config.yaml", "Postgres:\n  MaxPoolSize: 20\nLlm:\n  Model: from-yaml\n");
        var configuration = new ConfigurationManager();
        configuration.AddJsonFile(appsettings);
        // Stands for the environment variables: added after the files, as the hosts' default builders do.
        configuration.AddInMemoryCollection(new Dictionary<string, string?> { ["ORCHESTRATOR_CONFIG"] = yaml, ["Llm:Model"] = "from-environment" });

        configuration.AddOrchestratorConfiguration();

        Assert.Equal("20", configuration["Postgres:MaxPoolSize"]);
        Assert.Equal("1", configuration["Postgres:MinPoolSize"]);
        Assert.Equal("from-environment", configuration["Llm:Model"]);
    }

    [Fact]
    public void Without_ORCHESTRATOR_CONFIG_a_missing_default_file_is_fine()
    {
        var configuration = new ConfigurationManager();
        configuration.AddInMemoryCollection(new Dictionary<string, string?> { ["Llm:Model"] = "m" });

        configuration.AddOrchestratorConfiguration();

        Assert.Equal("m", configuration["Llm:Model"]);
    }

    [Fact]
    public void A_broken_file_is_reported_with_its_path_and_line()
    {
        var yaml = Write("config.yaml", "Postgres:\n  MaxPoolSize: 5\n  Nested:\n a: b\n");
        var configuration = new ConfigurationManager();
        configuration.AddInMemoryCollection(new Dictionary<string, string?> { ["ORCHESTRATOR_CONFIG"] = yaml });

        var error = Assert.Throws<InvalidConfigurationException>(() => configuration.AddOrchestratorConfiguration());

        Assert.Contains(yaml, error.Message);
        Assert.Contains("line 4", error.Message);
    }

    [Fact]
    public void An_unresolved_Key_Vault_reference_reads_as_unset_and_is_listed_also_after_a_reload()
    {
        var configuration = new ConfigurationManager();
        configuration.AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["Auth:AdminToken"] = "@Microsoft.KeyVault(VaultName=kv;SecretName=admin-token)",
            ["Notices:Slack:WebhookUrl"] = " @microsoft.keyvault(SecretUri=https://kv.vault.azure.net/secrets/slack-webhook-url/)",
            ["Llm:Model"] = "gpt-4o-mini",
        });

        configuration.AddOrchestratorConfiguration();

        Assert.Equal(string.Empty, configuration["Auth:AdminToken"]);
        Assert.Equal(string.Empty, configuration["Notices:Slack:WebhookUrl"]);
        Assert.Equal("gpt-4o-mini", configuration["Llm:Model"]);
        Assert.Equal(["Auth:AdminToken", "Notices:Slack:WebhookUrl"], UnresolvedSecretReferences.In(configuration));

        // A source inserted below reloads every provider; the merged view then includes this one's own blanks.
        configuration.Sources.Insert(0, new Microsoft.Extensions.Configuration.Memory.MemoryConfigurationSource { InitialData = [new("Api:MaxRequestBytes", "1024")] });

        Assert.Equal(string.Empty, configuration["Auth:AdminToken"]);
        Assert.Equal(["Auth:AdminToken", "Notices:Slack:WebhookUrl"], UnresolvedSecretReferences.In(configuration));
    }

    [Fact]
    public void A_resolved_secret_is_left_alone()
    {
        var configuration = new ConfigurationManager();
        configuration.AddInMemoryCollection(new Dictionary<string, string?> { ["Auth:AdminToken"] = "resolved-secret-value-0123456789" });

        configuration.AddOrchestratorConfiguration();

        Assert.Equal("resolved-secret-value-0123456789", configuration["Auth:AdminToken"]);
        Assert.Empty(UnresolvedSecretReferences.In(configuration));
    }

    private string Write(string name, string text)
    {
        var path = Path.Combine(folder, name);
        File.WriteAllText(path, text);
        return path;
    }
}
