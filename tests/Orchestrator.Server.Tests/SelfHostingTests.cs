using System.ComponentModel.DataAnnotations;
using System.Globalization;
using System.Runtime.Versioning;
using System.Text.RegularExpressions;
using System.Xml.Linq;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using Npgsql;
using Orchestrator.Core.Auth;
using Orchestrator.Core.Hosting;
using Orchestrator.Core.Metrics;
using Orchestrator.Core.Monitoring;
using Orchestrator.Core.Persistence;
using Orchestrator.Core.Tests.Hosting;
using Orchestrator.Server.Api;
using Orchestrator.Server.Durable;
using Orchestrator.Server.Tests.Infrastructure;
using YamlDotNet.RepresentationModel;

namespace Orchestrator.Server.Tests;

/// <summary>
/// The Dockerfile, docker-compose.yml and the Kubernetes base, which no machine here can build or run (no container
/// engine, no registry images): parsed, and held to the Server's real configuration keys, port, routes, assembly and
/// shutdown timing, and to the names the runbook's docker-compose and kubectl commands use.
/// </summary>
public sealed class SelfHostingTests
{
    /// <summary>How long a stopping Server lets the steps in flight finish: the setting when a file gives it, else the Server's default.</summary>
    private static TimeSpan ServerDrainTimeout(string? configured) =>
        configured is null ? new DurableServerOptions().DrainTimeout : TimeSpan.Parse(configured, CultureInfo.InvariantCulture);

    /// <summary>The Server's host stops regardless this long after the drain (its shutdown timeout is the drain + the margin).</summary>
    private static readonly TimeSpan HostStopMargin = DurableServerOptions.ShutdownMargin;

    /// <summary>What a grace period leaves beyond the host's own timeout, for the process to exit and flush its logs.</summary>
    private static readonly TimeSpan ExitMargin = TimeSpan.FromSeconds(5);

    /// <summary>Every runbook command talks to http://localhost:8080.</summary>
    private const int RunbookPort = 8080;

    private const string Namespace = "llm-orchestrator";
    private const string DeploymentName = "orchestrator";

    /// <summary>The Kubernetes base brings no database: its pools are sized for PostgreSQL's default max_connections.</summary>
    private const int PostgresDefaultMaxConnections = 100;

    /// <summary>superuser_reserved_connections' default: connections an application can never have.</summary>
    private const int PostgresReservedConnections = 3;

    /// <summary>Left over for the migrator's own connections at start, psql sessions and backups.</summary>
    private const int ConnectionHeadroom = 10;

    private const string ComposePath = "docker-compose.yml";
    private const string EnvExamplePath = ".env.example";
    private const string DockerfilePath = "Dockerfile";
    private const string KubernetesBase = "deploy/kubernetes/base";

    private static readonly Lazy<IReadOnlySet<string>> ServerKeys = new(() => BoundConfigurationKeys.Collect((services, configuration) =>
    {
        services.AddOrchestratorCore(configuration);
        services.AddOrchestratorTelemetry(configuration);
        services.AddDurableServer();
        // AddOrchestratorLogging binds Logging:Format and Logging:File:* itself, before the host exists.
        services.AddOptions<LogOutputOptions>().BindConfiguration(LogOutputOptions.SectionName);
    }));

    private static readonly Lazy<IReadOnlyList<(string Path, bool Anonymous, IReadOnlyList<string>? Methods)>> ProbeRoutes = new(MapProbeRoutes);

    // ---- Dockerfile ----

    [Fact]
    public void Dockerfile_listens_on_8080_on_every_interface_and_exposes_that_port()
    {
        var docker = Dockerfile();
        var port = ImagePort(docker);
        var exposed = docker.Where("EXPOSE", docker.FinalStage).SelectMany(e => e.Arguments.Split(' ', StringSplitOptions.RemoveEmptyEntries)).ToList();

        Assert.True(port == RunbookPort, $"{DockerfilePath}: ASPNETCORE_HTTP_PORTS is {port}; the runbook's commands use {RunbookPort}");
        Assert.True(exposed.Any(e => e.Split('/')[0] == port.ToString(CultureInfo.InvariantCulture)), $"{DockerfilePath}: EXPOSE ({string.Join(", ", exposed)}) does not name ASPNETCORE_HTTP_PORTS' {port}");

        // ASPNETCORE_HTTP_PORTS reaches the host's configuration as HTTP_PORTS: the Server must then leave the binding to it
        // rather than pin its default localhost:8080, which nothing outside the container could reach.
        var builder = WebApplication.CreateBuilder(new WebApplicationOptions { Args = [$"--HTTP_PORTS={port}"] });
        builder.UseDefaultServerPort(RunbookPort);
        var urls = builder.WebHost.GetSetting(WebHostDefaults.ServerUrlsKey) ?? string.Empty;
        Assert.True(!urls.Contains("localhost", StringComparison.OrdinalIgnoreCase), $"{DockerfilePath}: with ASPNETCORE_HTTP_PORTS={port} the Server still binds {urls}, unreachable from outside the container");
    }

    [Fact]
    public void Dockerfile_entry_point_runs_the_Server_assembly_in_exec_form()
    {
        var docker = Dockerfile();
        var entry = docker.Where("ENTRYPOINT", docker.FinalStage).LastOrDefault();
        Assert.True(entry is not null, $"{DockerfilePath}: the runtime stage has no ENTRYPOINT");

        var exec = entry.ExecForm();
        Assert.True(exec is not null, $"{DockerfilePath} line {entry.Line}: ENTRYPOINT must be in exec form ([\"dotnet\", ...]) so SIGTERM reaches the Server, not a shell");
        var assembly = typeof(ServerHostingExtensions).Assembly.GetName().Name + ".dll";
        Assert.True(exec is ["dotnet", var dll] && dll == assembly, $"{DockerfilePath} line {entry.Line}: ENTRYPOINT {string.Join(' ', exec)}, expected dotnet {assembly}");
    }

    [Fact]
    public void Dockerfile_publishes_the_Server_project_into_the_folder_the_entry_point_runs_in()
    {
        var docker = Dockerfile();
        var publish = docker.Where("RUN").Select(r => (Run: r, Match: Regex.Match(r.Arguments, @"dotnet publish\s+(?<project>\S+).*?\s-o\s+(?<out>\S+)"))).SingleOrDefault(r => r.Match.Success);
        Assert.True(publish.Run is not null, $"{DockerfilePath}: no RUN dotnet publish <project> ... -o <folder>");

        var project = Path.GetFullPath(Path.Combine(TestEnvironment.RepositoryRoot, publish.Match.Groups["project"].Value));
        var server = Path.GetFullPath(Path.Combine(TestEnvironment.RepositoryRoot, "functions", "Orchestrator.Server", "Orchestrator.Server.csproj"));
        Assert.True(project == server || project.TrimEnd('/') == Path.GetDirectoryName(server), $"{DockerfilePath} line {publish.Run.Line}: publishes {project}, not the Server ({server})");
        Assert.True(Regex.IsMatch(publish.Run.Arguments, @"(-c|--configuration)\s+Release\b"), $"{DockerfilePath} line {publish.Run.Line}: dotnet publish without -c Release");

        // The runtime stage copies that output into its working directory, where the entry point's dll is looked for.
        var output = publish.Match.Groups["out"].Value.TrimEnd('/');
        var workdir = docker.Where("WORKDIR", docker.FinalStage).LastOrDefault()?.Arguments.TrimEnd('/');
        var copy = docker.Where("COPY", docker.FinalStage).Select(c => c.Options()).FirstOrDefault(c =>
            c.Flags.ContainsKey("from") && c.Body.Split(' ', StringSplitOptions.RemoveEmptyEntries) is [var source, _] && source.TrimEnd('/') == output);
        Assert.True(copy.Body is not null, $"{DockerfilePath}: the runtime stage does not COPY --from the build stage's {output}");
        var destination = copy.Body.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1].TrimEnd('/');
        Assert.True(destination is "." or "" || destination == workdir, $"{DockerfilePath}: the publish output goes to {destination}, the entry point runs in WORKDIR {workdir}");
        Assert.True(publish.Run.Stage == docker.Stage(copy.Flags["from"]), $"{DockerfilePath}: the runtime stage copies from stage {copy.Flags["from"]}, not the one that publishes");
    }

    [Fact]
    public void Dockerfile_copies_only_files_that_exist_and_that_the_dockerignore_lets_into_the_build_context()
    {
        var docker = Dockerfile();
        var ignore = DockerIgnore.Load(Path.Combine(TestEnvironment.RepositoryRoot, ".dockerignore"));
        foreach (var copy in docker.Where("COPY").Concat(docker.Where("ADD")))
        {
            var (flags, rest) = copy.Options();
            if (flags.ContainsKey("from"))
            {
                continue;
            }

            foreach (var source in rest.Split(' ', StringSplitOptions.RemoveEmptyEntries)[..^1])
            {
                var full = Path.Combine(TestEnvironment.RepositoryRoot, source);
                Assert.True(File.Exists(full) || Directory.Exists(full), $"{DockerfilePath} line {copy.Line}: {source} does not exist");
                var files = Directory.Exists(full)
                    ? Directory.EnumerateFiles(full, "*", SearchOption.AllDirectories)
                        .Select(f => Path.GetRelativePath(TestEnvironment.RepositoryRoot, f).Replace('\\', '/'))
                        .Where(f => !Regex.IsMatch(f, "(^|/)(bin|obj)/"))
                        .ToList()
                    : [source];
                var excluded = files.Where(ignore.Excludes).ToList();
                Assert.True(excluded.Count == 0, $"{DockerfilePath} line {copy.Line}: .dockerignore keeps {string.Join(", ", excluded.Take(5))} out of the build context");
            }
        }

        Assert.True(ignore.Excludes(".env") && ignore.Excludes("tests/Orchestrator.Server.Tests/SelfHostingTests.cs") && ignore.Excludes("functions/Orchestrator.Server/bin/Release/net10.0/Orchestrator.Server.dll"),
            ".dockerignore must keep secrets (.env), tests and build output out of the build context");
    }

    [Fact]
    public void Dockerfile_restores_from_every_project_file_the_Server_builds_from_before_copying_the_sources()
    {
        var docker = Dockerfile();
        var restore = docker.Where("RUN").FirstOrDefault(r => r.Arguments.Contains("dotnet restore", StringComparison.Ordinal));
        Assert.True(restore is not null, $"{DockerfilePath}: no RUN dotnet restore (the layer that caches the packages)");

        var copiedBefore = docker.Where("COPY", restore.Stage)
            .Where(c => c.Line < restore.Line)
            .SelectMany(c => c.Options().Body.Split(' ', StringSplitOptions.RemoveEmptyEntries)[..^1])
            .ToList();
        Assert.True(copiedBefore.All(s => !Directory.Exists(Path.Combine(TestEnvironment.RepositoryRoot, s))),
            $"{DockerfilePath}: before the restore only project files are copied, so a source change keeps the packages layer ({string.Join(", ", copiedBefore)})");

        var needed = ProjectClosure(Path.Combine("functions", "Orchestrator.Server", "Orchestrator.Server.csproj"))
            .Concat(["global.json", "Directory.Build.props", "Directory.Packages.props"]);
        foreach (var file in needed)
        {
            Assert.True(copiedBefore.Contains(file), $"{DockerfilePath} line {restore.Line}: the restore needs {file}, which is not copied before it");
        }
    }

    [Fact]
    public void Dockerfile_copies_the_folder_of_every_project_the_Server_builds_from_before_publishing()
    {
        var docker = Dockerfile();
        var publish = docker.Where("RUN").FirstOrDefault(r => r.Arguments.Contains("dotnet publish", StringComparison.Ordinal));
        Assert.True(publish is not null, $"{DockerfilePath}: no RUN dotnet publish");

        var copiedBefore = docker.Where("COPY", publish.Stage)
            .Where(c => c.Line < publish.Line && !c.Options().Flags.ContainsKey("from"))
            .SelectMany(c => c.Options().Body.Split(' ', StringSplitOptions.RemoveEmptyEntries)[..^1])
            .Select(s => s.TrimEnd('/'))
            .ToList();
        foreach (var project in ProjectClosure(Path.Combine("functions", "Orchestrator.Server", "Orchestrator.Server.csproj")))
        {
            var folder = Path.GetDirectoryName(project)!.Replace('\\', '/');
            Assert.True(copiedBefore.Contains(folder), $"{DockerfilePath} line {publish.Line}: the publish builds {project}, but {folder}/ is not copied before it");
        }
    }

    [Fact]
    public void Dockerfile_runs_as_a_non_root_user()
    {
        var docker = Dockerfile();
        var user = docker.Where("USER", docker.FinalStage).LastOrDefault();
        Assert.True(user is not null, $"{DockerfilePath}: the runtime stage sets no USER, so the Server would run as root");

        var name = user.Arguments.Split(':')[0];
        var nonRoot = name is "$APP_UID" or "${APP_UID}"
            || (int.TryParse(name, CultureInfo.InvariantCulture, out var uid) ? uid != 0 : name != "root");
        Assert.True(nonRoot, $"{DockerfilePath} line {user.Line}: USER {user.Arguments} is root");
        // A numeric user lets Kubernetes' runAsNonRoot verify it; a name cannot be checked and the pod would not start.
        Assert.True(name.StartsWith('$') || name.All(char.IsAsciiDigit), $"{DockerfilePath} line {user.Line}: USER {name} should be numeric ($APP_UID)");
    }

    [Fact]
    public void Dockerfile_healthcheck_asks_the_liveness_route_on_the_port_the_Server_listens_on()
    {
        var docker = Dockerfile();
        var check = docker.Where("HEALTHCHECK", docker.FinalStage).LastOrDefault();
        Assert.True(check is not null, $"{DockerfilePath}: the runtime stage has no HEALTHCHECK");

        var command = string.Join(' ', check.ExecForm() ?? [check.Options().Body]);
        var target = Regex.Match(command, @"(?:127\.0\.0\.1|localhost)[:/](?<port>\d+)");
        Assert.True(target.Success, $"{DockerfilePath} line {check.Line}: the HEALTHCHECK names no local port: {command}");
        Assert.True(ImagePort(docker) == int.Parse(target.Groups["port"].Value, CultureInfo.InvariantCulture), $"{DockerfilePath} line {check.Line}: the HEALTHCHECK asks port {target.Groups["port"].Value}, the Server listens on {ImagePort(docker)}");
        Assert.True(Regex.IsMatch(command, "/health/live\\b"), $"{DockerfilePath} line {check.Line}: the HEALTHCHECK does not ask /health/live: {command}");
        AssertAnonymousGetRoute("/health/live", $"{DockerfilePath} HEALTHCHECK");
        Assert.True(check.Options().Flags.ContainsKey("timeout"), $"{DockerfilePath} line {check.Line}: HEALTHCHECK without --timeout");
    }

    [Fact]
    public void Dockerfile_builds_and_runs_on_the_Servers_target_framework()
    {
        var docker = Dockerfile();
        var framework = typeof(ServerHostingExtensions).Assembly.GetCustomAttributes(typeof(TargetFrameworkAttribute), false)
            .Cast<TargetFrameworkAttribute>().Single().FrameworkName;
        var version = Regex.Match(framework, @"Version=v(?<v>\d+\.\d+)").Groups["v"].Value;
        var images = docker.Where("FROM").Select(f => f.Options().Body.Split(' ')[0]).ToList();

        Assert.True(images.Contains($"mcr.microsoft.com/dotnet/sdk:{version}"), $"{DockerfilePath}: FROM {string.Join(", ", images)}; the Server targets .NET {version}, so the build needs mcr.microsoft.com/dotnet/sdk:{version}");
        AssertValue($"mcr.microsoft.com/dotnet/aspnet:{version}", docker.Where("FROM", docker.FinalStage).Single().Options().Body.Split(' ')[0], $"{DockerfilePath}: the runtime stage's FROM");
    }

    // ---- docker-compose.yml ----

    [Fact]
    public void Compose_defines_the_services_the_runbook_names()
    {
        var services = Compose().ServiceNames.ToList();
        foreach (var name in new[] { "orchestrator", "postgres" })
        {
            Assert.True(services.Contains(name), $"{ComposePath}: no service '{name}' (has {string.Join(", ", services)})");
        }

        AssertValue(".", Compose().Service("orchestrator").Text("build") ?? Compose().Service("orchestrator").Text("build", "context"), $"{ComposePath} orchestrator.build (the Dockerfile's context is the repository root)");
    }

    [Fact]
    public void Compose_publishes_the_orchestrator_on_8080_the_port_the_image_listens_on()
    {
        var ports = Compose().Ports("orchestrator");
        var imagePort = ImagePort(Dockerfile());
        Assert.True(ports.Any(p => p.Published == RunbookPort && p.Target == imagePort),
            $"{ComposePath}: orchestrator publishes {string.Join(", ", ports.Select(p => $"{p.Published}:{p.Target}"))}; the runbook needs localhost:{RunbookPort} → the image's {imagePort}");
    }

    [Fact]
    public void Compose_environment_holds_only_keys_the_Server_binds()
    {
        AssertServerKeys(Compose().Environment("orchestrator").Keys, $"{ComposePath} orchestrator.environment");
    }

    [Fact]
    public void Compose_takes_every_secret_from_the_env_file_and_env_example_lists_every_variable()
    {
        var compose = Compose();
        foreach (var service in compose.ServiceNames)
        {
            foreach (var (name, value) in compose.Environment(service).Where(e => IsSecret(e.Key)))
            {
                Assert.True(LiteralCredential(name, value) is null, $"{ComposePath} {service}.environment.{name}: a literal secret ({LiteralCredential(name, value)}); take it from .env with ${{VARIABLE}}");
            }
        }

        var example = EnvFile(EnvExamplePath);
        var referenced = AllScalars(compose.Root).SelectMany(ComposeFile.Variables).Select(v => v.Name).Distinct().ToList();
        var missing = referenced.Where(v => !example.ContainsKey(v)).ToList();
        Assert.True(missing.Count == 0, $"{EnvExamplePath} does not list {string.Join(", ", missing)}, which {ComposePath} reads");
        var unused = example.Keys.Where(k => !referenced.Contains(k)).ToList();
        Assert.True(unused.Count == 0, $"{EnvExamplePath} lists {string.Join(", ", unused)}, which {ComposePath} never reads");
        foreach (var (name, value) in example.Where(e => BoundConfigurationKeys.IsSecret(e.Key)))
        {
            Assert.True(value.Length == 0, $"{EnvExamplePath}: {name} has a value; the example must carry no usable secret");
        }

        Assert.True(GitIgnored().Contains(".env"), ".gitignore must list .env, which holds the compose secrets");
    }

    [Fact]
    public void Compose_stop_grace_period_outlasts_the_Servers_drain()
    {
        var text = Compose().Service("orchestrator").Text("stop_grace_period");
        Assert.True(text is not null, $"{ComposePath}: orchestrator has no stop_grace_period; docker's 10 s default kills every LLM call in flight");
        var grace = ComposeFile.Duration(text);
        var needed = ServerDrainTimeout(Compose().Environment("orchestrator").GetValueOrDefault("Durable__DrainTimeout")) + HostStopMargin + ExitMargin;
        Assert.True(grace >= needed, $"{ComposePath}: orchestrator.stop_grace_period {text} is shorter than the Server's drain + shutdown ({needed})");
    }

    [Fact]
    public void Compose_starts_the_orchestrator_once_postgres_is_healthy()
    {
        var compose = Compose();
        var dependsOn = compose.Service("orchestrator").Map("depends_on");
        Assert.True(dependsOn is not null, $"{ComposePath}: orchestrator has no depends_on (in the long form, with conditions)");
        AssertValue("service_healthy", dependsOn.Text("postgres", "condition"), $"{ComposePath} orchestrator.depends_on.postgres.condition");
        Assert.True(compose.Service("postgres").Items("healthcheck", "test").Count > 0, $"{ComposePath}: postgres has no healthcheck, so service_healthy never comes");
        foreach (var name in dependsOn.Children.Keys.Select(k => ((YamlScalarNode)k).Value!))
        {
            Assert.True(compose.ServiceNames.Contains(name), $"{ComposePath}: orchestrator.depends_on names {name}, which is no service");
        }
    }

    [Fact]
    public void Compose_gives_the_orchestrator_a_fixed_worker_id_and_one_container()
    {
        var service = Compose().Service("orchestrator");
        var id = Compose().Environment("orchestrator").GetValueOrDefault("Durable__WorkerId");
        Assert.True(!string.IsNullOrWhiteSpace(id) && ComposeFile.Variables(id).Count == 0,
            $"{ComposePath}: orchestrator needs a fixed Durable__WorkerId, so a restarted container takes back the work it had taken at once");
        // Two live workers with one id would take each other's work: a starting worker frees every lock its id holds.
        var replicas = service.Text("deploy", "replicas") ?? service.Text("scale") ?? "1";
        AssertValue("1", replicas, $"{ComposePath} orchestrator.deploy.replicas (a fixed Durable__WorkerId allows one container)");
    }

    [Fact]
    public void Compose_postgres_is_the_runbooks_database_on_5432_with_its_data_on_a_volume()
    {
        var compose = Compose();
        var postgres = compose.Service("postgres");
        Assert.True(postgres.Text("image")?.StartsWith("postgres:16", StringComparison.Ordinal) == true, $"{ComposePath} postgres.image is {postgres.Text("image")}, expected postgres:16");
        AssertValue("workflows", compose.Environment("postgres").GetValueOrDefault("POSTGRES_DB"), $"{ComposePath} postgres.environment.POSTGRES_DB");
        Assert.True(compose.Ports("postgres").Any(p => p.Published == 5432 && p.Target == 5432), $"{ComposePath}: postgres must publish 5432 for the runbook's pg_isready -h localhost -p 5432");
        AssertNamedVolume(compose, "postgres", "/var/lib/postgresql/data");

        var environment = compose.Environment("orchestrator");
        var primary = new NpgsqlConnectionStringBuilder(environment["Postgres__ConnectionString"]);
        AssertValue("workflows", primary.Database, $"{ComposePath} orchestrator Postgres__ConnectionString Database");
        Assert.True(primary.Host!.Split(',').Contains("postgres"), $"{ComposePath} orchestrator Postgres__ConnectionString: Host={primary.Host} does not name the postgres service");
        if (environment.GetValueOrDefault("Postgres__ReplicaConnectionString") is { Length: > 0 } replicaString)
        {
            var replica = new NpgsqlConnectionStringBuilder(replicaString);
            foreach (var host in replica.Host!.Split(','))
            {
                Assert.True(compose.ServiceNames.Contains(host.Split(':')[0]), $"{ComposePath}: Postgres__ReplicaConnectionString names host {host}, which is no service");
            }
        }
    }

    [Fact]
    public void Compose_keeps_the_task_hub_in_postgres_and_needs_no_storage_account()
    {
        var compose = Compose();
        AssertTaskHubNeedsOnlyPostgres(compose.Environment("orchestrator"), $"{ComposePath} orchestrator.environment");
        var images = compose.ServiceNames.Select(name => (Name: name, Image: compose.Service(name).Text("image") ?? string.Empty)).ToList();
        Assert.True(images.All(s => !s.Image.Contains("azurite", StringComparison.OrdinalIgnoreCase)),
            $"{ComposePath}: {string.Join(", ", images.Where(s => s.Image.Contains("azurite", StringComparison.OrdinalIgnoreCase)).Select(s => s.Name))} runs Azurite, which the Postgres backend does not use");
        // Every declared volume holds a service's data; one left over from a removed service would only waste space.
        var mounted = compose.ServiceNames.SelectMany(name => compose.Service(name).Items("volumes")).Select(v => ((YamlScalarNode)v).Value!.Split(':')[0]).ToList();
        foreach (var volume in compose.Root.Keys("volumes"))
        {
            Assert.True(mounted.Contains(volume), $"{ComposePath}: volume {volume} is mounted by no service");
        }
    }

    [Fact]
    public void Compose_connection_budget_fits_postgres_max_connections_and_the_replica_can_follow()
    {
        var compose = Compose();
        var environment = compose.Environment("orchestrator");
        // The task hub draws from Postgres__MaxPoolSize (its LISTEN connection included), so it adds nothing here.
        var perInstance = PoolSize(environment, "Postgres__MaxPoolSize", new PostgresOptions().MaxPoolSize)
            + PoolSize(environment, "Monitors__MaxPoolSize", new MonitorsOptions().MaxPoolSize);
        // One container (the previous one is stopped before a recreated one starts).
        var primaryMax = MaxConnections(compose.Service("postgres"));
        Assert.True(perInstance + ConnectionHeadroom <= primaryMax - PostgresReservedConnections,
            $"{ComposePath}: the orchestrator may open {perInstance} connections (Postgres__MaxPoolSize + Monitors__MaxPoolSize) of postgres' max_connections {primaryMax}, less {PostgresReservedConnections} reserved and {ConnectionHeadroom} for the rest");

        if (compose.ServiceNames.Contains("postgres-replica"))
        {
            // A hot standby refuses to start with a smaller max_connections than its primary.
            Assert.True(MaxConnections(compose.Service("postgres-replica")) >= primaryMax, $"{ComposePath}: postgres-replica's max_connections must be at least the primary's {primaryMax}");
        }
    }

    [Fact]
    public void Containers_log_json_lines_to_stdout()
    {
        var appsettings = System.Text.Json.Nodes.JsonNode.Parse(File.ReadAllText(Path.Combine(TestEnvironment.RepositoryRoot, "functions", "Orchestrator.Server", "appsettings.json")));
        var settings = new[]
        {
            ($"{ComposePath} orchestrator.environment", Compose().Environment("orchestrator").GetValueOrDefault("Logging__Format")),
            ($"{KubernetesBase}/configmap.yaml", ConfigMapData().GetValueOrDefault("Logging__Format")),
            ("functions/Orchestrator.Server/appsettings.json", appsettings?["Logging"]?["Format"]?.GetValue<string>()),
        };
        foreach (var (where, format) in settings)
        {
            Assert.True(format is null || string.Equals(format, nameof(LogFormat.Json), StringComparison.OrdinalIgnoreCase),
                $"{where}: Logging__Format={format}; `docker-compose logs` and `kubectl logs` are meant to show JSON lines");
        }
    }

    // ---- Kubernetes ----

    [Fact]
    public void Kustomization_lists_manifests_that_exist_and_parse_into_the_llm_orchestrator_namespace()
    {
        var kustomization = Kustomization();
        AssertValue(Namespace, kustomization.Text("namespace"), $"{KubernetesBase}/kustomization.yaml namespace");
        var resources = kustomization.Items("resources").Select(r => ((YamlScalarNode)r).Value!).ToList();
        Assert.NotEmpty(resources);
        foreach (var resource in resources)
        {
            var path = Path.Combine(TestEnvironment.RepositoryRoot, KubernetesBase, resource);
            Assert.True(File.Exists(path), $"{KubernetesBase}/kustomization.yaml lists {resource}, which does not exist");
            var documents = YamlNodes.LoadAll(path);
            Assert.True(documents.Count > 0, $"{KubernetesBase}/{resource} holds no manifest");
            foreach (var document in documents)
            {
                Assert.True(document.Text("apiVersion") is not null && document.Text("kind") is not null && document.Text("metadata", "name") is not null,
                    $"{KubernetesBase}/{resource}: a document without apiVersion, kind or metadata.name");
            }
        }

        Assert.Equal(Namespace, Manifest("Namespace", Namespace).Text("metadata", "name"));
        foreach (var file in kustomization.Items("secretGenerator").SelectMany(g => g.Items("envs")).Select(e => ((YamlScalarNode)e).Value!))
        {
            Assert.True(File.Exists(Path.Combine(TestEnvironment.RepositoryRoot, KubernetesBase, file + ".example")), $"{KubernetesBase}: no {file}.example to make {file} from");
        }
    }

    [Fact]
    public void Deployment_orchestrator_runs_two_replicas_and_rolls_without_dropping_below_them()
    {
        var deployment = Deployment();
        AssertValue("2", deployment.Text("spec", "replicas"), $"{KubernetesBase}/deployment.yaml spec.replicas");
        AssertValue("RollingUpdate", deployment.Text("spec", "strategy", "type"), $"{KubernetesBase}/deployment.yaml spec.strategy.type");
        AssertValue("0", deployment.Text("spec", "strategy", "rollingUpdate", "maxUnavailable"), $"{KubernetesBase}/deployment.yaml spec.strategy.rollingUpdate.maxUnavailable");
        AssertSelects(deployment.Scalars("spec", "selector", "matchLabels"), "Deployment selector");
        AssertValue(DeploymentName, PodLabels().GetValueOrDefault("app.kubernetes.io/name"), $"{KubernetesBase}/deployment.yaml spec.template.metadata.labels[app.kubernetes.io/name]");
    }

    [Fact]
    public void Deployment_probes_ask_the_Servers_liveness_and_readiness_routes_on_its_port()
    {
        var container = Container();
        var port = Assert.Single(container.Items("ports"));
        AssertValue(ImagePort(Dockerfile()).ToString(CultureInfo.InvariantCulture), port.Text("containerPort"), $"{KubernetesBase}/deployment.yaml containerPort (the image's ASPNETCORE_HTTP_PORTS)");
        var portName = port.Text("name");
        Assert.False(string.IsNullOrEmpty(portName), $"{KubernetesBase}/deployment.yaml: name the container port, the probes and the Service refer to it");

        foreach (var (probe, path) in new[] { ("livenessProbe", "/health/live"), ("readinessProbe", "/health/ready"), ("startupProbe", "/health/live") })
        {
            Assert.True(container.Get(probe) is not null, $"{KubernetesBase}/deployment.yaml: no {probe}");
            AssertValue(path, container.Text(probe, "httpGet", "path"), $"{KubernetesBase}/deployment.yaml {probe}.httpGet.path");
            var probePort = container.Text(probe, "httpGet", "port");
            Assert.True(probePort == portName || probePort == port.Text("containerPort"), $"{KubernetesBase}/deployment.yaml: {probe} asks port {probePort}, the container listens on {portName}/{port.Text("containerPort")}");
            AssertAnonymousGetRoute(path, $"{KubernetesBase}/deployment.yaml {probe}");
        }
    }

    [Fact]
    public void Deployment_sets_a_memory_request_and_a_limit_below_the_runbooks_4Gi()
    {
        var container = Container();
        var request = container.Text("resources", "requests", "memory");
        var limit = container.Text("resources", "limits", "memory");
        Assert.True(request is not null && limit is not null, $"{KubernetesBase}/deployment.yaml: resources.requests.memory and resources.limits.memory must both be set (the runbook's OOM fix edits the limit)");
        Assert.True(Bytes(request) <= Bytes(limit), $"{KubernetesBase}/deployment.yaml: memory request {request} above the limit {limit}");
        // "kubectl edit deployment orchestrator / Update memory: 4Gi" raises the limit.
        Assert.True(Bytes(limit) < Bytes("4Gi"), $"{KubernetesBase}/deployment.yaml: memory limit {limit}; the runbook's fix raises it to 4Gi");
    }

    [Fact]
    public void Deployment_runs_as_the_restricted_pod_security_standard_asks()
    {
        var pod = Deployment().Map("spec", "template", "spec");
        var container = Container();
        var where = $"{KubernetesBase}/deployment.yaml";
        AssertValue("true", pod.Text("securityContext", "runAsNonRoot"), $"{where} spec.template.spec.securityContext.runAsNonRoot");
        AssertValue("RuntimeDefault", pod.Text("securityContext", "seccompProfile", "type"), $"{where} spec.template.spec.securityContext.seccompProfile.type");
        AssertValue("false", container.Text("securityContext", "allowPrivilegeEscalation"), $"{where} container securityContext.allowPrivilegeEscalation");
        AssertValue("true", container.Text("securityContext", "readOnlyRootFilesystem"), $"{where} container securityContext.readOnlyRootFilesystem");
        AssertValue("ALL", string.Join(',', container.Items("securityContext", "capabilities", "drop").Select(d => ((YamlScalarNode)d).Value)), $"{where} container securityContext.capabilities.drop");
        // With a read-only root, /tmp (the runtime's diagnostics socket) needs a volume of its own.
        var tmp = container.Items("volumeMounts").SingleOrDefault(m => m.Text("mountPath") == "/tmp");
        Assert.True(tmp is not null && pod.Items("volumes").Any(v => v.Text("name") == tmp.Text("name") && v.Get("emptyDir") is not null),
            $"{KubernetesBase}/deployment.yaml: no emptyDir mounted on /tmp");
        AssertValue("restricted", Manifest("Namespace", Namespace).Text("metadata", "labels", "pod-security.kubernetes.io/enforce"), $"{KubernetesBase}/namespace.yaml metadata.labels[pod-security.kubernetes.io/enforce]");
    }

    [Fact]
    public void Deployment_termination_grace_outlasts_the_preStop_pause_and_the_Servers_drain()
    {
        var pod = Deployment().Map("spec", "template", "spec");
        var grace = TimeSpan.FromSeconds(int.Parse(pod.Text("terminationGracePeriodSeconds") ?? "30", CultureInfo.InvariantCulture));
        var preStop = Container().Map("lifecycle", "preStop");
        var pause = preStop.Text("sleep", "seconds") is { } seconds
            ? TimeSpan.FromSeconds(int.Parse(seconds, CultureInfo.InvariantCulture))
            : preStop.Items("exec", "command").Select(c => ((YamlScalarNode)c).Value).ToList() is ["sleep", var s]
                ? TimeSpan.FromSeconds(int.Parse(s!, CultureInfo.InvariantCulture))
                : TimeSpan.Zero;
        var needed = pause + ServerDrainTimeout(ConfigMapData().GetValueOrDefault("Durable__DrainTimeout")) + HostStopMargin + ExitMargin;
        Assert.True(grace >= needed, $"{KubernetesBase}/deployment.yaml: terminationGracePeriodSeconds {grace.TotalSeconds} is shorter than the preStop pause + the Server's drain + shutdown ({needed.TotalSeconds} s)");
    }

    [Fact]
    public void Deployment_takes_its_worker_id_from_the_pod_name_and_its_settings_from_the_ConfigMap_and_the_Secret()
    {
        var container = Container();
        var workerId = container.Items("env").SingleOrDefault(e => e.Text("name") == "Durable__WorkerId");
        Assert.True(workerId is not null && workerId.Text("valueFrom", "fieldRef", "fieldPath") == "metadata.name",
            $"{KubernetesBase}/deployment.yaml: Durable__WorkerId must come from the pod's name (unique among live pods, kept across container restarts)");

        var envFrom = container.Items("envFrom");
        var configMap = envFrom.Select(e => e.Text("configMapRef", "name")).OfType<string>().Single();
        Assert.NotNull(Manifest("ConfigMap", configMap));
        var secret = envFrom.Select(e => e.Text("secretRef", "name")).OfType<string>().Single();
        Assert.True(Kustomization().Items("secretGenerator").Any(g => g.Text("name") == secret), $"{KubernetesBase}/deployment.yaml: envFrom.secretRef {secret} is not the kustomization's secretGenerator");
    }

    [Fact]
    public void Kubernetes_environment_holds_only_keys_the_Server_binds()
    {
        AssertServerKeys(ConfigMapData().Keys, $"{KubernetesBase}/configmap.yaml data");
        AssertServerKeys(SecretExample().Keys, $"{KubernetesBase}/secrets.env.example");
        AssertServerKeys(Container().Items("env").Select(e => e.Text("name")!), $"{KubernetesBase}/deployment.yaml env");
    }

    [Fact]
    public void Kubernetes_secrets_come_from_an_uncommitted_file_whose_example_holds_nothing_the_Server_would_run_with()
    {
        var generator = Assert.Single(Kustomization().Items("secretGenerator"));
        var envs = generator.Items("envs").Select(e => ((YamlScalarNode)e).Value!).ToList();
        AssertValue("secrets.env", string.Join(',', envs), $"{KubernetesBase}/kustomization.yaml secretGenerator.envs");
        Assert.True(GitIgnored().Contains("secrets.env"), ".gitignore must list secrets.env, which holds the Kubernetes secrets");

        var example = SecretExample();
        foreach (var key in new[] { "Auth__AdminToken", "Auth__ApiKeys__default", "Postgres__ConnectionString", "Postgres__ReplicaConnectionString", "Llm__ApiKey" })
        {
            Assert.True(example.ContainsKey(key), $"{KubernetesBase}/secrets.env.example has no {key}");
        }

        Assert.All(example, e => Assert.True(e.Value.Length == 0, $"{KubernetesBase}/secrets.env.example: {e.Key} has a value; it must carry no usable secret"));
        Assert.DoesNotContain(ConfigMapData().Keys, IsSecret);
        Assert.DoesNotContain(Container().Items("env"), e => IsSecret(e.Text("name")!) && e.Get("value") is not null);

        // An example copied unchanged stops the Server at start instead of running it unprotected or against nothing.
        Assert.NotEmpty(new AuthOptions { AdminToken = example["Auth__AdminToken"], ApiKeys = { ["default"] = example["Auth__ApiKeys__default"] } }.Problems());
        var postgres = new PostgresOptions { ConnectionString = example["Postgres__ConnectionString"] };
        Assert.False(Validator.TryValidateObject(postgres, new ValidationContext(postgres), null, validateAllProperties: true), "an empty Postgres__ConnectionString must stop the Server");
    }

    [Fact]
    public void Kubernetes_keeps_the_task_hub_in_postgres_and_needs_no_storage_account()
    {
        // The container's env overrides envFrom; a value from elsewhere (the pod's name, a Secret key) counts as set.
        var settings = ConfigMapData().Concat(SecretExample()).ToDictionary(e => e.Key, e => e.Value, StringComparer.Ordinal);
        foreach (var variable in Container().Items("env"))
        {
            settings[variable.Text("name")!] = variable.Text("value") ?? string.Empty;
        }

        AssertTaskHubNeedsOnlyPostgres(settings, $"{KubernetesBase}/configmap.yaml, secrets.env.example and deployment.yaml env");
    }

    [Fact]
    public void Service_orchestrator_serves_8080_from_the_deployments_named_port()
    {
        var service = Manifest("Service", DeploymentName);
        var port = Assert.Single(service.Items("spec", "ports"));
        AssertValue(RunbookPort.ToString(CultureInfo.InvariantCulture), port.Text("port"), $"{KubernetesBase}/service.yaml spec.ports.port");
        var containerPort = Assert.Single(Container().Items("ports"));
        Assert.True(port.Text("targetPort") == containerPort.Text("name") || port.Text("targetPort") == containerPort.Text("containerPort"),
            $"{KubernetesBase}/service.yaml: targetPort {port.Text("targetPort")} is not the container's port {containerPort.Text("name")}/{containerPort.Text("containerPort")}");
        AssertSelects(service.Scalars("spec", "selector"), "Service selector");
    }

    [Fact]
    public void PodDisruptionBudget_keeps_one_pod_of_the_deployment()
    {
        var budget = Manifest("PodDisruptionBudget", DeploymentName);
        AssertValue("1", budget.Text("spec", "minAvailable"), $"{KubernetesBase}/pdb.yaml spec.minAvailable");
        Assert.True(int.Parse(Deployment().Text("spec", "replicas")!, CultureInfo.InvariantCulture) > 1, "a minAvailable of 1 with one replica would block every node drain");
        AssertSelects(budget.Scalars("spec", "selector", "matchLabels"), "PodDisruptionBudget selector");
    }

    [Fact]
    public void Pods_carry_the_Prometheus_scrape_annotations_for_the_Servers_metrics_route()
    {
        var annotations = Deployment().Scalars("spec", "template", "metadata", "annotations");
        var where = $"{KubernetesBase}/deployment.yaml spec.template.metadata.annotations";
        AssertValue("true", annotations.GetValueOrDefault("prometheus.io/scrape"), $"{where}[prometheus.io/scrape]");
        AssertValue(Assert.Single(Container().Items("ports")).Text("containerPort"), annotations.GetValueOrDefault("prometheus.io/port"), $"{where}[prometheus.io/port] (the container's port)");
        AssertValue("/metrics", annotations.GetValueOrDefault("prometheus.io/path"), $"{where}[prometheus.io/path]");
        AssertAnonymousGetRoute(annotations["prometheus.io/path"], $"{KubernetesBase}/deployment.yaml prometheus.io/path");
    }

    [Fact]
    public void Kubernetes_connection_budget_fits_PostgreSQLs_default_max_connections_during_a_rollout()
    {
        var data = ConfigMapData();
        // The task hub draws from Postgres__MaxPoolSize (its LISTEN connection included), so it adds nothing here.
        var perPod = PoolSize(data, "Postgres__MaxPoolSize", new PostgresOptions().MaxPoolSize) + PoolSize(data, "Monitors__MaxPoolSize", new MonitorsOptions().MaxPoolSize);
        // During a rolling update the new pods (at most `replicas`) run while the old ones (at most `replicas`) drain.
        var pods = 2 * int.Parse(Deployment().Text("spec", "replicas")!, CultureInfo.InvariantCulture);
        Assert.True(pods * perPod + ConnectionHeadroom <= PostgresDefaultMaxConnections - PostgresReservedConnections,
            $"{KubernetesBase}/configmap.yaml: {pods} pods × {perPod} connections (Postgres__MaxPoolSize + Monitors__MaxPoolSize) exceed PostgreSQL's default max_connections {PostgresDefaultMaxConnections} less {PostgresReservedConnections} reserved and {ConnectionHeadroom} for the rest");
    }

    // ---- the Server's side, and the runbook ----

    [Fact]
    public void Probe_and_scrape_paths_are_anonymous_GET_routes_of_the_Server()
    {
        foreach (var path in new[] { "/health/live", "/health/ready", "/health", "/metrics" })
        {
            AssertAnonymousGetRoute(path, "the Server's routes");
        }

        Assert.DoesNotContain(ProbeRoutes.Value, r => r.Path == "/health/alive");
    }

    [Fact]
    public void Runbook_docker_compose_and_kubectl_commands_name_what_the_compose_file_and_the_manifests_define()
    {
        var services = Compose().ServiceNames.ToList();
        var lines = File.ReadAllLines(Path.Combine(TestEnvironment.RepositoryRoot, "docs", "runbook.md")).Select(l => l.Trim()).ToList();
        var checkedCommands = 0;
        foreach (var line in lines.Where(l => l.StartsWith("docker-compose ", StringComparison.Ordinal)))
        {
            var arguments = line.Split(' ', StringSplitOptions.RemoveEmptyEntries).Skip(2).Where(a => !a.StartsWith('-'));
            foreach (var service in arguments)
            {
                Assert.True(services.Contains(service), $"docs/runbook.md: `{line}` names service {service}, which {ComposePath} does not define");
            }

            checkedCommands++;
        }

        foreach (var line in lines.Where(l => l.StartsWith("kubectl ", StringComparison.Ordinal)))
        {
            if (Regex.Match(line, @"\s-n\s+(\S+)") is { Success: true } ns)
            {
                AssertValue(Namespace, ns.Groups[1].Value, $"docs/runbook.md `{line}`: the namespace");
            }

            if (Regex.Match(line, @"\bdeployment[/\s]+(?<name>[a-z0-9-]+)") is { Success: true } deployment)
            {
                AssertValue(DeploymentName, deployment.Groups["name"].Value, $"docs/runbook.md `{line}`: the Deployment");
            }

            if (Regex.Match(line, @"\bpod\s+(?<name>[a-z0-9-]+)") is { Success: true } pod)
            {
                Assert.True(pod.Groups["name"].Value.StartsWith(DeploymentName + "-", StringComparison.Ordinal), $"docs/runbook.md `{line}`: pods of the Deployment are named {DeploymentName}-<hash>-<id>");
            }

            checkedCommands++;
        }

        Assert.True(checkedCommands >= 8, $"docs/runbook.md: only {checkedCommands} docker-compose/kubectl commands found");
    }

    // ---- helpers ----

    /// <summary>Assert.Equal for a value read from a deployment file, with the file and key in the message.</summary>
    private static void AssertValue(string? expected, string? actual, string fileAndKey) =>
        Assert.True(expected == actual, $"{fileAndKey} is {(actual is null ? "missing" : $"'{actual}'")}, expected '{expected}'");

    private static DockerfileInstructions Dockerfile() => DockerfileInstructions.Load(Path.Combine(TestEnvironment.RepositoryRoot, DockerfilePath));

    private static ComposeFile Compose() => ComposeFile.Load(Path.Combine(TestEnvironment.RepositoryRoot, ComposePath));

    private static YamlMappingNode Kustomization() => YamlNodes.Load(Path.Combine(TestEnvironment.RepositoryRoot, KubernetesBase, "kustomization.yaml"));

    private static YamlMappingNode Manifest(string kind, string name)
    {
        var matches = Kustomization().Items("resources")
            .Select(r => Path.Combine(TestEnvironment.RepositoryRoot, KubernetesBase, ((YamlScalarNode)r).Value!))
            // A listed file that is missing fails the kustomization's own test, not every test of a manifest.
            .Where(File.Exists)
            .SelectMany(YamlNodes.LoadAll)
            .Where(d => d.Text("kind") == kind && d.Text("metadata", "name") == name)
            .ToList();
        Assert.True(matches.Count == 1, $"{KubernetesBase}: expected one {kind} named {name} among the kustomization's resources, found {matches.Count}");
        return matches[0];
    }

    private static YamlMappingNode Deployment() => Manifest("Deployment", DeploymentName);

    private static YamlMappingNode Container()
    {
        var containers = Deployment().Items("spec", "template", "spec", "containers");
        return (YamlMappingNode)(containers.SingleOrDefault(c => c.Text("name") == DeploymentName)
            ?? throw new InvalidDataException($"{KubernetesBase}/deployment.yaml: no container named {DeploymentName}"));
    }

    private static IReadOnlyDictionary<string, string> PodLabels() => Deployment().Scalars("spec", "template", "metadata", "labels");

    private static IReadOnlyDictionary<string, string> ConfigMapData()
    {
        var name = Container().Items("envFrom").Select(e => e.Text("configMapRef", "name")).OfType<string>().Single();
        return Manifest("ConfigMap", name).Scalars("data");
    }

    private static Dictionary<string, string> SecretExample() => EnvFile(Path.Combine(KubernetesBase, "secrets.env.example"));

    /// <summary>A selector must be non-empty and match the pod template's labels.</summary>
    private static void AssertSelects(IReadOnlyDictionary<string, string> selector, string what)
    {
        var labels = PodLabels();
        Assert.True(selector.Count > 0, $"{KubernetesBase}: {what} is empty");
        foreach (var (key, value) in selector)
        {
            Assert.True(labels.GetValueOrDefault(key) == value, $"{KubernetesBase}: {what} {key}={value} does not match the pods' labels");
        }
    }

    private static int ImagePort(DockerfileInstructions docker)
    {
        var env = docker.Env(docker.FinalStage);
        Assert.True(env.TryGetValue("ASPNETCORE_HTTP_PORTS", out var ports), $"{DockerfilePath}: the runtime stage sets no ASPNETCORE_HTTP_PORTS");
        return int.Parse(ports.Split(';')[0], CultureInfo.InvariantCulture);
    }

    /// <summary>Project files the build of <paramref name="project"/> reads: itself and its project references, transitively.</summary>
    private static List<string> ProjectClosure(string project)
    {
        var found = new List<string>();
        var pending = new Queue<string>([project]);
        while (pending.TryDequeue(out var current))
        {
            current = Path.GetRelativePath(TestEnvironment.RepositoryRoot, Path.GetFullPath(Path.Combine(TestEnvironment.RepositoryRoot, current))).Replace('\\', '/');
            if (found.Contains(current))
            {
                continue;
            }

            found.Add(current);
            var directory = Path.GetDirectoryName(current)!;
            foreach (var reference in XDocument.Load(Path.Combine(TestEnvironment.RepositoryRoot, current)).Descendants("ProjectReference"))
            {
                pending.Enqueue(Path.Combine(directory, reference.Attribute("Include")!.Value.Replace('\\', '/')));
            }
        }

        return found;
    }

    private static void AssertServerKeys(IEnumerable<string> names, string where)
    {
        var list = names.ToList();
        Assert.NotEmpty(list);
        var unknown = list.Where(n => n.Contains(':', StringComparison.Ordinal) || (!IsPlatformKey(n)
            && !ServerKeys.Value.Any(k => BoundConfigurationKeys.Matches(k, BoundConfigurationKeys.FromEnvironmentName(n))))).ToList();
        Assert.True(unknown.Count == 0, $"{where}: {string.Join(", ", unknown)} is no key the Server binds (nor ASPNETCORE_*, DOTNET_*, OTEL_*, OPENAI_*, ADMIN_TOKEN); the Server would ignore it");
    }

    private static bool IsPlatformKey(string name) =>
        name == "ADMIN_TOKEN" || Regex.IsMatch(name, "^(ASPNETCORE|DOTNET|OTEL|OPENAI)_") || name.StartsWith("Logging__LogLevel__", StringComparison.Ordinal);

    /// <summary>A credential, or a connection string (which may carry one): neither may be written out in a committed file.</summary>
    private static bool IsSecret(string name) => BoundConfigurationKeys.IsSecret(name) || BoundConfigurationKeys.IsConnectionString(name);

    /// <summary>The literal credential in a compose value, or null when every credential in it comes from a variable.</summary>
    private static string? LiteralCredential(string name, string value)
    {
        if (ComposeFile.IsOnlyVariable(value))
        {
            return null;
        }

        if (!name.Contains("ConnectionString", StringComparison.OrdinalIgnoreCase))
        {
            return value;
        }

        return value.Split(';', StringSplitOptions.RemoveEmptyEntries)
            .Select(p => p.Split('=', 2))
            .Where(p => p.Length == 2 && Regex.IsMatch(p[0].Trim(), "^(password|pwd|accountkey|sharedaccesssignature|sharedaccesskey)$", RegexOptions.IgnoreCase))
            .Where(p => !ComposeFile.IsOnlyVariable(p[1]))
            .Select(p => string.Join('=', p))
            .FirstOrDefault();
    }

    /// <summary>
    /// A deployment's durable settings choose the Postgres backend (by setting it or by leaving the default) and carry
    /// no storage account, and the Server's own validation accepts them so; on AzureStorage the same settings stop the
    /// Server naming the missing key.
    /// </summary>
    private static void AssertTaskHubNeedsOnlyPostgres(IReadOnlyDictionary<string, string> environment, string where)
    {
        Assert.False(environment.ContainsKey("Durable__StorageConnectionString"), $"{where}: sets Durable__StorageConnectionString, which only the AzureStorage backend uses");
        var durable = new DurableServerOptions();
        new ConfigurationBuilder()
            .AddInMemoryCollection(environment.Select(e => KeyValuePair.Create(BoundConfigurationKeys.FromEnvironmentName(e.Key), (string?)e.Value)))
            .Build()
            .GetSection(DurableServerOptions.SectionName)
            .Bind(durable);
        AssertValue(nameof(DurableBackendKind.Postgres), durable.Backend.ToString(), $"{where} Durable__Backend (the task hub in the database, so PostgreSQL is all it needs)");

        durable.StorageConnectionString = string.Empty;
        var failure = Record.Exception(() => SectionValidation.ThrowIfInvalid(durable, DurableServerOptions.SectionName));
        Assert.True(failure is null, $"{where}: with no storage account the Server refuses its durable settings: {failure?.Message}");

        durable.Backend = DurableBackendKind.AzureStorage;
        var refused = Assert.Throws<OptionsValidationException>(() => SectionValidation.ThrowIfInvalid(durable, DurableServerOptions.SectionName));
        Assert.Contains(refused.Failures, f => f.StartsWith("Durable:StorageConnectionString:", StringComparison.Ordinal));
    }

    private static int PoolSize(IReadOnlyDictionary<string, string> environment, string key, int serverDefault) =>
        environment.TryGetValue(key, out var value) ? int.Parse(value, CultureInfo.InvariantCulture) : serverDefault;

    /// <summary>A postgres service's max_connections (<c>-c max_connections=N</c> in its command), PostgreSQL's default when not set.</summary>
    private static int MaxConnections(YamlMappingNode service)
    {
        var command = service.Get("command") switch
        {
            YamlSequenceNode list => string.Join(' ', list.Children.Select(c => ((YamlScalarNode)c).Value)),
            YamlScalarNode text => text.Value ?? string.Empty,
            _ => string.Empty,
        };
        var set = Regex.Matches(command, @"max_connections=(\d+)");
        return set.Count > 0 ? int.Parse(set[^1].Groups[1].Value, CultureInfo.InvariantCulture) : PostgresDefaultMaxConnections;
    }

    private static void AssertNamedVolume(ComposeFile compose, string service, string mountPath)
    {
        var volumes = compose.Service(service).Items("volumes").Select(v => ((YamlScalarNode)v).Value!.Split(':')).ToList();
        var volume = volumes.FirstOrDefault(v => v.Length >= 2 && v[1] == mountPath);
        Assert.True(volume is not null, $"{ComposePath}: {service} keeps {mountPath} in no volume; its data would go with the container");
        Assert.True(compose.Root.Keys("volumes").Contains(volume[0]), $"{ComposePath}: {service}'s volume {volume[0]} is not a named volume declared under volumes:");
    }

    /// <summary>KEY=value lines, comments and blank lines skipped.</summary>
    private static Dictionary<string, string> EnvFile(string relative) =>
        File.ReadAllLines(Path.Combine(TestEnvironment.RepositoryRoot, relative))
            .Select(l => l.Trim())
            .Where(l => l.Length > 0 && !l.StartsWith('#'))
            .Select(l => l.Split('=', 2))
            .ToDictionary(p => p[0], p => p.Length > 1 ? p[1] : string.Empty, StringComparer.Ordinal);

    private static List<string> GitIgnored() =>
        File.ReadAllLines(Path.Combine(TestEnvironment.RepositoryRoot, ".gitignore")).Select(l => l.Trim().TrimStart('/')).ToList();

    private static IEnumerable<string> AllScalars(YamlNode node) => node switch
    {
        YamlScalarNode scalar => [scalar.Value ?? string.Empty],
        YamlSequenceNode sequence => sequence.Children.SelectMany(AllScalars),
        YamlMappingNode map => map.Children.SelectMany(c => AllScalars(c.Key).Concat(AllScalars(c.Value))),
        _ => [],
    };

    /// <summary>Kubernetes' quantities (512Mi, 1Gi, 1G, 500M) in bytes.</summary>
    private static double Bytes(string quantity)
    {
        var m = Regex.Match(quantity, @"^(?<n>\d+(?:\.\d+)?)(?<unit>Ki|Mi|Gi|Ti|k|M|G|T)?$");
        Assert.True(m.Success, $"not a memory quantity: {quantity}");
        var unit = m.Groups["unit"].Value switch
        {
            "Ki" => 1024d, "Mi" => 1024d * 1024, "Gi" => 1024d * 1024 * 1024, "Ti" => 1024d * 1024 * 1024 * 1024,
            "k" => 1e3, "M" => 1e6, "G" => 1e9, "T" => 1e12, _ => 1d,
        };
        return double.Parse(m.Groups["n"].Value, CultureInfo.InvariantCulture) * unit;
    }

    private static void AssertAnonymousGetRoute(string path, string where)
    {
        var route = ProbeRoutes.Value.Where(r => r.Path == path).ToList();
        Assert.True(route.Count > 0, $"{where}: {path} is not a route of the Server");
        Assert.True(route.Any(r => r.Anonymous), $"{where}: {path} needs a token; probes and scrapers send none");
        Assert.True(route.Any(r => r.Methods is null || r.Methods.Contains(HttpMethods.Get)), $"{where}: {path} does not answer GET");
    }

    /// <summary>The Server's health and metrics routes, mapped by its own ServerRoutes on an app that is never started.</summary>
    private static List<(string Path, bool Anonymous, IReadOnlyList<string>? Methods)> MapProbeRoutes()
    {
        var builder = WebApplication.CreateBuilder(new WebApplicationOptions { Args = [] });
        builder.Services.AddHealthChecks();
        builder.Services.AddSingleton<MetricsEndpoint>();
        var app = builder.Build();
        app.MapHealth();
        app.MapMetrics();
        var routes = ((IEndpointRouteBuilder)app).DataSources
            .SelectMany(s => s.Endpoints)
            .OfType<RouteEndpoint>()
            .Select(e => ("/" + e.RoutePattern.RawText!.TrimStart('/'), e.Metadata.GetMetadata<IAllowAnonymous>() is not null, (IReadOnlyList<string>?)e.Metadata.GetMetadata<IHttpMethodMetadata>()?.HttpMethods.ToList()))
            .ToList();
        ((IDisposable)app).Dispose();
        return routes;
    }
}
