using System.Diagnostics;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Npgsql;
using Orchestrator.Core.Hosting;
using Orchestrator.Core.Tests.Hosting;

namespace Orchestrator.Functions.Tests;

/// <summary>
/// The Functions app's configuration as code binds it, as <c>local.settings.sample.json</c> gives it to Core Tools,
/// and as <c>infra/</c> gives it to the app on Azure: the same keys in all three, and no secret written out in either
/// file. The Azure side is read from the template <c>infra/bicep-build.sh</c> compiles.
/// </summary>
public sealed partial class DeploymentSettingsTests(CompiledTemplate template) : IClassFixture<CompiledTemplate>
{
    /// <summary>Settings the platform or the Functions host reads, not the product's options classes.</summary>
    private static readonly string[] PlatformKeys =
    [
        "AzureWebJobsStorage", "AzureWebJobsStorage__*", "FUNCTIONS_WORKER_RUNTIME", "AZURE_FUNCTIONS_ENVIRONMENT",
        "APPLICATIONINSIGHTS_CONNECTION_STRING", "APPLICATIONINSIGHTS_AUTHENTICATION_STRING", "TaskHubName",
    ];

    /// <summary>
    /// Collections whose member names each install chooses: neither file can list "the" keys, so only the ones named
    /// here must show an example member; the others (more providers, per-model prices, per-channel severities) are
    /// documented in docs/ and may appear.
    /// </summary>
    private static readonly string[] CollectionsWithAnExample = ["Auth:ApiKeys:*"];

    private static readonly Lazy<IReadOnlySet<string>> Bound = new(() => BoundConfigurationKeys.Collect((services, configuration) =>
    {
        services.AddOrchestratorCore(configuration);
        services.AddFunctionsTelemetry(configuration);
    }));

    /// <summary>The options classes' scalar keys plus the <c>%Setting%</c> expressions of the function triggers.</summary>
    private static IEnumerable<string> RequiredKeys() =>
        Bound.Value.Where(key => !key.Contains(BoundConfigurationKeys.Wildcard, StringComparison.Ordinal))
            .Concat(BindingExpressionSettings().Select(BoundConfigurationKeys.FromEnvironmentName))
            .Concat(CollectionsWithAnExample)
            .Distinct(StringComparer.OrdinalIgnoreCase)
            .Order(StringComparer.Ordinal);

    private static Dictionary<string, string> SampleSettings() =>
        JsonNode.Parse(File.ReadAllText(Path.Combine(FunctionsBuild.RepositoryRoot, "local.settings.sample.json")))!["Values"]!.AsObject()
            .ToDictionary(pair => pair.Key, pair => pair.Value!.GetValue<string>(), StringComparer.OrdinalIgnoreCase);

    [Fact]
    public void Every_key_the_Functions_app_binds_is_in_the_sample_settings()
    {
        var sample = SampleSettings().Keys.Select(BoundConfigurationKeys.FromEnvironmentName).ToList();

        var missing = RequiredKeys().Where(key => !sample.Any(name => BoundConfigurationKeys.Matches(key, name))).ToList();

        Assert.True(missing.Count == 0, "local.settings.sample.json lacks: " + string.Join(", ", missing.Select(BoundConfigurationKeys.ToEnvironmentName)));
    }

    [Fact]
    public void Every_key_the_Functions_app_binds_is_in_the_Bicep_app_settings()
    {
        var azure = template.AppSettings.Keys.Select(BoundConfigurationKeys.FromEnvironmentName).ToList();

        var missing = RequiredKeys().Where(key => !azure.Any(name => BoundConfigurationKeys.Matches(key, name))).ToList();

        Assert.True(missing.Count == 0, "the Bicep app settings lack: " + string.Join(", ", missing.Select(BoundConfigurationKeys.ToEnvironmentName)));
    }

    [Fact]
    public void Neither_file_sets_a_key_the_code_does_not_read()
    {
        var known = Bound.Value.Concat(BindingExpressionSettings().Select(BoundConfigurationKeys.FromEnvironmentName))
            .Concat(PlatformKeys.Select(BoundConfigurationKeys.FromEnvironmentName)).ToList();

        var unknown = SampleSettings().Keys.Select(key => ("local.settings.sample.json", key))
            .Concat(template.AppSettings.Keys.Select(key => ("the Bicep app settings", key)))
            .Where(entry => !known.Any(pattern => BoundConfigurationKeys.Matches(pattern, BoundConfigurationKeys.FromEnvironmentName(entry.key))))
            .ToList();

        Assert.True(unknown.Count == 0, "set but read by nothing (a typo, or a setting the code no longer has): " + string.Join(", ", unknown.Select(u => $"{u.key} in {u.Item1}")));
    }

    [Fact]
    public void The_sample_settings_hold_no_secret()
    {
        var problems = SampleSettings()
            .Where(pair => BoundConfigurationKeys.IsSecret(pair.Key) ? pair.Value.Length > 0 : BoundConfigurationKeys.IsConnectionString(pair.Key) && HasRemotePassword(pair.Value))
            .Select(pair => pair.Key)
            .ToList();

        Assert.True(problems.Count == 0, "local.settings.sample.json writes out a secret (leave it empty; a password only for the local database on loopback): " + string.Join(", ", problems));
    }

    [Fact]
    public void Every_secret_on_Azure_comes_from_Key_Vault_and_no_connection_string_carries_a_password()
    {
        var secrets = template.AppSettings.Where(pair => BoundConfigurationKeys.IsSecret(pair.Key)).ToList();
        Assert.NotEmpty(secrets);
        var literal = secrets.Where(pair => !pair.Value.Contains(UnresolvedSecretReferences.ReferencePrefix, StringComparison.Ordinal)).Select(pair => pair.Key).ToList();
        Assert.True(literal.Count == 0, "secrets set without a Key Vault reference: " + string.Join(", ", literal));

        var passwords = template.AppSettings.Where(pair => BoundConfigurationKeys.IsConnectionString(pair.Key) && pair.Value.Contains("Password=", StringComparison.OrdinalIgnoreCase)).Select(pair => pair.Key).ToList();
        Assert.True(passwords.Count == 0, "connection strings with a password on Azure (the app signs in with its managed identity): " + string.Join(", ", passwords));
        Assert.Equal("true", template.AppSettings["Postgres__UseManagedIdentity"]);
    }

    [Fact]
    public void On_Azure_the_app_reaches_storage_the_database_and_its_secrets_with_its_identity_not_with_keys()
    {
        var storage = Assert.Single(template.Declared("Microsoft.Storage/storageAccounts"));
        Assert.False(storage["properties"]!["allowSharedKeyAccess"]!.GetValue<bool>(), "the storage account allows shared keys");
        Assert.Equal("managedidentity", template.AppSettings["AzureWebJobsStorage__credential"]);

        var server = Assert.Single(template.Declared("Microsoft.DBforPostgreSQL/flexibleServers"), r => r["properties"]!["authConfig"] is JsonObject);
        Assert.Equal("Disabled", server["properties"]!["authConfig"]!["passwordAuth"]!.GetValue<string>());
        Assert.Equal("Enabled", server["properties"]!["authConfig"]!["activeDirectoryAuth"]!.GetValue<string>());

        Assert.True(Assert.Single(template.Declared("Microsoft.KeyVault/vaults"))["properties"]!["enableRbacAuthorization"]!.GetValue<bool>());
        Assert.False(string.IsNullOrEmpty(template.Site["properties"]!["keyVaultReferenceIdentity"]?.GetValue<string>()),
            "the site resolves Key Vault references without naming the user-assigned identity that may read them");
    }

    /// <summary>
    /// The app's identity gets on the storage account exactly the three data roles the Functions host and the Durable
    /// Azure Storage provider need, and nowhere a broad role that could manage resources or grant access.
    /// </summary>
    [Fact]
    public void The_apps_identity_holds_only_the_storage_data_roles_the_durable_provider_needs_and_no_broad_role()
    {
        var variables = template.Root["variables"]!;
        var storageRoles = variables["storageRoleIds"]!.AsArray()
            .Select(id => Regex.Match(id!.GetValue<string>(), @"^\[variables\('roles'\)\.(\w+)\]$").Groups[1].Value)
            .Select(name => variables["roles"]![name]!.GetValue<string>())
            .ToHashSet();
        Assert.Equal(new HashSet<string> { StorageBlobDataOwner, StorageQueueDataContributor, StorageTableDataContributor }, storageRoles);

        var appRoles = CompiledTemplate.Resources(template.Root).Single(r => r["name"]?.GetValue<string>() == "storage-roles-app");
        Assert.Equal("[variables('storageRoleIds')]", appRoles["properties"]!["parameters"]!["roleDefinitionIds"]!["value"]!.GetValue<string>());
        Assert.Contains("'identity'", appRoles["properties"]!["parameters"]!["principalId"]!["value"]!.GetValue<string>(), StringComparison.Ordinal);

        var text = template.Root.ToJsonString();
        Assert.All(BroadRoles, role => Assert.DoesNotContain(role.Id, text, StringComparison.OrdinalIgnoreCase));
    }

    private const string StorageBlobDataOwner = "b7e6dc6d-f1e8-4753-8033-0f276bb0955b";
    private const string StorageQueueDataContributor = "974c5e8b-45b9-4653-ba55-5f855dd0fb88";
    private const string StorageTableDataContributor = "0a9a7e1f-b9d0-4cc4-a60d-0319b160aaa3";

    /// <summary>Built-in roles that manage resources or access: Owner, Contributor, User Access Administrator, Storage Account Contributor, Key Vault Administrator.</summary>
    private static readonly (string Name, string Id)[] BroadRoles =
    [
        ("Owner", "8e3af657-a8ff-443c-a75c-2fe8c4bcb635"),
        ("Contributor", "b24988ac-6180-42a0-ab88-20f7382dd24c"),
        ("User Access Administrator", "18d7d88d-d35e-4fb5-a5c3-7773c20a72d9"),
        ("Storage Account Contributor", "17d1049b-9a84-46fb-8f53-869881c3d3ab"),
        ("Key Vault Administrator", "00482a5a-887f-4fb3-b363-3b7fe8e74483"),
    ];

    [Fact]
    public void The_task_hub_name_comes_from_a_setting_both_files_give()
    {
        var host = JsonNode.Parse(File.ReadAllText(Path.Combine(FunctionsBuild.RepositoryRoot, "host.json")))!;

        Assert.Equal("%TaskHubName%", host["extensions"]!["durableTask"]!["hubName"]!.GetValue<string>());
        Assert.False(string.IsNullOrWhiteSpace(SampleSettings().GetValueOrDefault("TaskHubName")));
        Assert.True(template.AppSettings.ContainsKey("TaskHubName"));
        Assert.Equal("api", host["extensions"]!["http"]!["routePrefix"]!.GetValue<string>());
        Assert.Equal("OpenTelemetry", host["telemetryMode"]?.GetValue<string>());
    }

    /// <summary>
    /// Every instance may hold <c>Postgres__MaxPoolSize</c> + <c>Monitors__MaxPoolSize</c> connections to the primary
    /// (and 2 to the replica); Flex Consumption may run <c>maximumInstanceCount</c> instances. With the template's
    /// defaults that must fit in the server's <c>max_connections</c> less what Azure reserves.
    /// </summary>
    [Fact]
    public void The_default_scale_out_fits_the_database_connection_limit()
    {
        var parameters = template.Root["parameters"]!;
        var variables = template.Root["variables"]!;
        var instances = parameters["maximumInstanceCount"]!["defaultValue"]!.GetValue<int>();
        var pool = parameters["postgresMaxPoolSize"]!["defaultValue"]!.GetValue<int>();
        var sku = parameters["postgresSkuName"]!["defaultValue"]!.GetValue<string>();
        var monitorsPool = int.Parse(template.AppSettings["Monitors__MaxPoolSize"], System.Globalization.CultureInfo.InvariantCulture);
        var reserved = variables["postgresReservedConnections"]!.GetValue<int>();
        var replicaPool = variables["postgresReplicaPoolSize"]!.GetValue<int>();
        var limits = variables["postgresMaxConnectionsBySku"]!.AsObject().ToDictionary(p => p.Key, p => p.Value!.GetValue<int>());

        // The numbers are the ones the app gets: the pool setting and the site's scale-out limit come from these parameters.
        Assert.Contains("postgresMaxPoolSize", template.AppSettings["Postgres__MaxPoolSize"], StringComparison.Ordinal);
        Assert.Equal(variables["monitorsMaxPoolSize"]!.GetValue<int>(), monitorsPool);
        Assert.Equal("[parameters('maximumInstanceCount')]", template.Site["properties"]!["functionAppConfig"]!["scaleAndConcurrency"]!["maximumInstanceCount"]!.GetValue<string>());
        Assert.Equal("[parameters('maximumInstanceCount')]", template.SiteModule["properties"]!["parameters"]!["maximumInstanceCount"]!["value"]!.GetValue<string>());

        // Every size that may be chosen has its limit in the table.
        Assert.All(parameters["postgresSkuName"]!["allowedValues"]!.AsArray().Select(v => v!.GetValue<string>()), allowed => Assert.True(limits.ContainsKey(allowed), $"no max_connections for {allowed}"));

        var primary = instances * (pool + monitorsPool) + reserved;
        Assert.True(primary <= limits[sku], $"{instances} instances x ({pool} + {monitorsPool}) + {reserved} reserved = {primary} connections; {sku} allows {limits[sku]}");
        var replica = instances * replicaPool + reserved;
        Assert.True(replica <= limits.Values.Min(), $"{instances} instances x {replicaPool} + {reserved} = {replica} replica connections; the smallest size allows {limits.Values.Min()}");
    }

    [Fact]
    public void The_parameters_file_passes_only_azds_own_variables_to_parameters_main_bicep_declares()
    {
        var file = JsonNode.Parse(File.ReadAllText(Path.Combine(FunctionsBuild.RepositoryRoot, "infra", "main.parameters.json")))!["parameters"]!.AsObject();

        Assert.Equal(
            new Dictionary<string, string> { ["environmentName"] = "${AZURE_ENV_NAME}", ["location"] = "${AZURE_LOCATION}", ["principalId"] = "${AZURE_PRINCIPAL_ID}" },
            file.ToDictionary(p => p.Key, p => p.Value!["value"]!.GetValue<string>()));
        Assert.All(file.Select(p => p.Key), name => Assert.NotNull(template.Root["parameters"]![name]));
        Assert.Contains("subscriptionDeploymentTemplate", template.Root["$schema"]!.GetValue<string>(), StringComparison.Ordinal);
    }

    [Fact]
    public void Azd_deploys_the_Functions_project_as_the_service_the_template_tags()
    {
        var yaml = new YamlDotNet.RepresentationModel.YamlStream();
        yaml.Load(new StringReader(File.ReadAllText(Path.Combine(FunctionsBuild.RepositoryRoot, "azure.yaml"))));
        var api = (YamlDotNet.RepresentationModel.YamlMappingNode)((YamlDotNet.RepresentationModel.YamlMappingNode)((YamlDotNet.RepresentationModel.YamlMappingNode)yaml.Documents[0].RootNode)["services"])["api"];

        Assert.Equal("function", api["host"].ToString());
        Assert.Equal("dotnet", api["language"].ToString());
        Assert.True(File.Exists(Path.Combine(FunctionsBuild.RepositoryRoot, api["project"].ToString(), "Orchestrator.Functions.csproj")));
        // The Flex Consumption site azd finds by its tag, running .NET 10 isolated.
        var (site, module) = (template.Site, template.SiteModule);
        Assert.Contains("createObject('azd-service-name', parameters('serviceName'))", site["tags"]!.GetValue<string>(), StringComparison.Ordinal);
        Assert.Equal("api", module["properties"]!["parameters"]!["serviceName"]!["value"]!.GetValue<string>());
        Assert.Equal("dotnet-isolated", site["properties"]!["functionAppConfig"]!["runtime"]!["name"]!.GetValue<string>());
        var version = module["properties"]!["parameters"]!["runtimeVersion"]?["value"]?.GetValue<string>()
            ?? module["properties"]!["template"]!["parameters"]!["runtimeVersion"]!["defaultValue"]!.GetValue<string>();
        Assert.Equal("10.0", version);
    }

    /// <summary>
    /// The runbook's recovery rows lean on these: zone-redundant HA (primary failure), a read replica in this or another
    /// region (the replica-lag monitor, regional loss) and geo-redundant backups (region loss). Each is a parameter of
    /// main.bicep, off by default (they multiply the cost), that reaches the resource that honours it.
    /// </summary>
    [Fact]
    public void The_database_is_workflows_and_high_availability_a_read_replica_and_geo_backups_are_parameters_off_by_default()
    {
        var parameters = template.Root["parameters"]!;
        var primary = Assert.Single(template.Declared("Microsoft.DBforPostgreSQL/flexibleServers"), r => r["properties"]!["createMode"] is null);
        var passed = template.Module(primary)["properties"]!["parameters"]!;

        foreach (var (parameter, moduleParameter) in new[] { ("enablePostgresHighAvailability", "highAvailability"), ("enablePostgresGeoRedundantBackup", "geoRedundantBackup"), ("enablePostgresReadReplica", "enableReadReplica") })
        {
            Assert.False(parameters[parameter]!["defaultValue"]!.GetValue<bool>(), $"{parameter} is on by default");
            Assert.Equal($"[parameters('{parameter}')]", passed[moduleParameter]!["value"]!.GetValue<string>());
        }

        Assert.Equal("[if(parameters('highAvailability'), 'ZoneRedundant', 'Disabled')]", primary["properties"]!["highAvailability"]!["mode"]!.GetValue<string>());
        Assert.Equal("[if(parameters('geoRedundantBackup'), 'Enabled', 'Disabled')]", primary["properties"]!["backup"]!["geoRedundantBackup"]!.GetValue<string>());
        var replica = Assert.Single(template.Declared("Microsoft.DBforPostgreSQL/flexibleServers"), r => r["properties"]!["createMode"]?.GetValue<string>() == "Replica");
        Assert.Equal("[parameters('enableReadReplica')]", replica["condition"]!.GetValue<string>());
        Assert.Contains("parameters('replicaLocation')", replica["location"]!.GetValue<string>(), StringComparison.Ordinal);

        Assert.Single(template.Declared("Microsoft.DBforPostgreSQL/flexibleServers/databases"));
        Assert.Equal("workflows", passed["databaseName"]!["value"]!.GetValue<string>());
    }

    /// <summary>
    /// Application Insights on a Log Analytics workspace, wired to the app; and every azd environment value the hooks
    /// read or the docs tell the operator to read (<c>azd env get-value X</c>) is an output of the template, which is
    /// where azd takes them from.
    /// </summary>
    [Fact]
    public void Monitoring_is_wired_to_the_app_and_every_azd_value_the_hooks_and_docs_use_is_an_output()
    {
        var workspace = Assert.Single(template.Declared("Microsoft.OperationalInsights/workspaces"));
        var insights = Assert.Single(template.Declared("Microsoft.Insights/components"));
        Assert.Contains("Microsoft.OperationalInsights/workspaces", insights["properties"]!["WorkspaceResourceId"]!.GetValue<string>(), StringComparison.Ordinal);
        Assert.NotNull(workspace["properties"]!["retentionInDays"]);
        Assert.True(template.AppSettings.ContainsKey("APPLICATIONINSIGHTS_CONNECTION_STRING"));

        var outputs = template.Root["outputs"]!.AsObject().Select(o => o.Key).ToHashSet(StringComparer.Ordinal);
        Assert.Superset(new HashSet<string> { "AZURE_LOCATION", "AZURE_TENANT_ID" }, outputs);
        var hooks = new[] { "infra/hooks/postprovision.sh", "infra/hooks/postprovision.ps1" }.SelectMany(file => Uses(file, HookVariable()));
        var docs = new[] { "README.md", "infra/README.md", "docs/runbook.md" }.SelectMany(file => Uses(file, AzdGetValue()));
        var used = hooks.Concat(docs).ToList();
        Assert.Contains(used, use => use.File == "postprovision.sh" && use.Name == "AZURE_KEY_VAULT_NAME");
        var missing = used.Where(use => !outputs.Contains(use.Name)).Select(use => $"{use.File}: {use.Name}").Distinct().ToList();
        Assert.True(missing.Count == 0, "read from azd's environment but no output of infra/main.bicep: " + string.Join(", ", missing));
    }

    /// <summary><c>%Monitors__ReplicaLag__Schedule%</c> and the like, read by the Functions host from the app settings.</summary>
    private static IEnumerable<string> BindingExpressionSettings()
    {
        var metadata = File.ReadAllText(Path.Combine(FunctionsBuild.Output, "functions.metadata"));
        return BindingExpression().Matches(metadata).Select(m => m.Groups[1].Value).Distinct();
    }

    private static bool HasRemotePassword(string connectionString)
    {
        var builder = new NpgsqlConnectionStringBuilder(connectionString);
        return !string.IsNullOrEmpty(builder.Password) &&
            (builder.Host ?? "").Split(',').Select(h => h.Split(':')[0].Trim()).Any(h => h is not ("127.0.0.1" or "localhost" or "::1"));
    }

    private static IEnumerable<(string File, string Name)> Uses(string file, Regex pattern) =>
        pattern.Matches(File.ReadAllText(Path.Combine(FunctionsBuild.RepositoryRoot, file))).Select(m => (Path.GetFileName(file), m.Groups["name"].Value));

    /// <summary>An azd environment value a hook reads: <c>${AZURE_KEY_VAULT_NAME</c> (sh), <c>$env:AZURE_RESOURCE_GROUP</c> (PowerShell).</summary>
    [GeneratedRegex(@"(?:\$\{|\$env:)(?<name>(?:AZURE|SERVICE|POSTGRES)_[A-Z0-9_]+)")]
    private static partial Regex HookVariable();

    [GeneratedRegex(@"azd env get-value (?<name>[A-Z][A-Z0-9_]+)")]
    private static partial Regex AzdGetValue();

    [GeneratedRegex("\"%([A-Za-z0-9_]+)%\"")]
    private static partial Regex BindingExpression();
}

/// <summary>infra/main.bicep compiled by <c>infra/bicep-build.sh</c> (which also lints it), once per test class.</summary>
public sealed class CompiledTemplate
{
    public CompiledTemplate()
    {
        var output = Path.Combine(Path.GetTempPath(), $"orch-main-{Guid.NewGuid():N}.json");
        var info = new ProcessStartInfo("bash", [Path.Combine(FunctionsBuild.RepositoryRoot, "infra", "bicep-build.sh")])
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            Environment = { ["BICEP_TEMPLATE_OUT"] = output },
        };
        using var process = Process.Start(info)!;
        var stderr = process.StandardError.ReadToEndAsync();
        var stdout = process.StandardOutput.ReadToEnd();
        process.WaitForExit();
        if (process.ExitCode != 0 || !File.Exists(output))
        {
            throw new InvalidOperationException($"infra/bicep-build.sh failed ({process.ExitCode}):\n{stdout}\n{stderr.Result}");
        }

        Root = JsonNode.Parse(File.ReadAllText(output))!;
        File.Delete(output);
        var settings = Resources(Root).Where(r => r["type"]?.GetValue<string>() == "Microsoft.Web/sites/config" && r["name"]!.ToJsonString().Contains("appsettings", StringComparison.Ordinal)).ToList();
        AppSettings = Assert.Single(settings)["properties"]!.AsObject()
            .ToDictionary(pair => pair.Key, pair => pair.Value is JsonValue v && v.TryGetValue<string>(out var s) ? s : pair.Value!.ToJsonString(), StringComparer.OrdinalIgnoreCase);
    }

    public JsonNode Root { get; }

    /// <summary>The Function App (<c>Microsoft.Web/sites</c>).</summary>
    public JsonNode Site => Resources(Root).Single(r => r["type"]?.GetValue<string>() == "Microsoft.Web/sites");

    /// <summary>The module (nested deployment) that declares <see cref="Site"/>, with the parameters main.bicep passes it.</summary>
    public JsonNode SiteModule => Module(Site);

    /// <summary>The module (nested deployment) whose template declares <paramref name="resource"/>.</summary>
    public JsonNode Module(JsonNode resource) =>
        Resources(Root).Single(r => r["properties"]?["template"] is { } t && Resources(t).Contains(resource));

    /// <summary>Resources main.bicep and its modules declare (not <c>existing</c> references), of <paramref name="type"/>.</summary>
    public IReadOnlyList<JsonNode> Declared(string type) =>
        Resources(Root).Where(r => r["type"]?.GetValue<string>() == type && r["properties"] is JsonObject && r["existing"] is null).ToList();

    /// <summary>The one app-settings resource, key → value (a literal, or the ARM expression that makes it).</summary>
    public IReadOnlyDictionary<string, string> AppSettings { get; }

    /// <summary>Every resource, also those of the modules (nested deployments with their templates inline).</summary>
    public static IEnumerable<JsonNode> Resources(JsonNode template)
    {
        var resources = template["resources"];
        var list = resources is JsonObject byName ? byName.Select(p => p.Value!) : resources?.AsArray().Select(r => r!) ?? [];
        foreach (var resource in list)
        {
            yield return resource;
            if (resource["properties"]?["template"] is { } nested)
            {
                foreach (var inner in Resources(nested))
                {
                    yield return inner;
                }
            }
        }
    }
}
