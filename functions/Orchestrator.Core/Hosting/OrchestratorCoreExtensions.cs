using Microsoft.Extensions.Configuration;
using HealthChecks.NpgSql;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Npgsql;
using Orchestrator.Core.Api;
using Orchestrator.Core.Auth;
using Orchestrator.Core.Definitions;
using Orchestrator.Core.Health;
using Orchestrator.Core.Incidents;
using Orchestrator.Core.Llm;
using Orchestrator.Core.Llm.Limits;
using Orchestrator.Core.Llm.Breakers;
using Orchestrator.Core.Metrics;
using Orchestrator.Core.Monitoring;
using Orchestrator.Core.Operations;
using Orchestrator.Core.Persistence;
using Orchestrator.Core.Reconciliation;
using Orchestrator.Core.Resilience;
using Orchestrator.Core.Workflows;

namespace Orchestrator.Core.Hosting;

/// <summary>Registers everything the product's core needs; both hosts call this once.</summary>
public static class OrchestratorCoreExtensions
{
    public static IServiceCollection AddOrchestratorCore(this IServiceCollection services, IConfiguration configuration)
    {
        services.AddOptions<PostgresOptions>().BindConfiguration(PostgresOptions.SectionName).ValidateDataAnnotations(PostgresOptions.SectionName).ValidateOnStart();
        services.AddOptions<ApiOptions>().BindConfiguration(ApiOptions.SectionName).ValidateDataAnnotations(ApiOptions.SectionName).ValidateOnStart();
        services.AddOptions<DefinitionOptions>().BindConfiguration(DefinitionOptions.SectionName);
        services.AddOptions<LlmOptions>()
            .BindConfiguration(LlmOptions.SectionName)
            .PostConfigure(options => ApplyOpenAiEnvironment(options, configuration))
            .ValidateDataAnnotations(LlmOptions.SectionName)
            .ValidateOnStart();
        services.AddSingleton<IValidateOptions<LlmOptions>, LlmOptionsValidator>();

        services.AddOptions<ResilienceOptions>()
            .BindConfiguration(ResilienceOptions.SectionName)
            .ValidateDataAnnotations(ResilienceOptions.SectionName)
            .Validate(
                o => o.StepLeaseRenewInterval < o.StepLeaseDuration / 2,
                "Resilience:StepLeaseRenewInterval must be less than half of Resilience:StepLeaseDuration (a lease must survive a missed renewal).")
            .ValidateOnStart();
        services.AddSingleton(TimeProvider.System);
        services.AddSingleton<InstanceIdentity>();
        services.AddSingleton<DatabaseRetry>();
        services.AddSingleton<PaidResults>();
        services.AddOptions<ReconcilerOptions>().BindConfiguration(ReconcilerOptions.SectionName).ValidateDataAnnotations(ReconcilerOptions.SectionName).ValidateOnStart();
        services.AddSingleton<RunReconciler>();
        services.TryAddSingleton<PostgresAuthentication>();
        services.AddSingleton(CreateDataSource);
        services.AddSingleton<WorkflowStore>();
        services.AddSingleton(sp => DefinitionRegistry.FromFolder(sp.GetRequiredService<IOptions<DefinitionOptions>>(), sp.GetRequiredService<ILogger<DefinitionRegistry>>()));
        services.AddSingleton<WorkflowRuns>();
        services.AddSingleton<WorkflowHttpHandlers>();
        services.AddSingleton<DefinitionHttpHandlers>();
        services.AddSingleton<DurableHttpApi>();
        services.AddSingleton<LlmGateway>();
        services.AddLlmLimits();
        foreach (var (_, type) in DurableTasks.Activities)
        {
            services.AddTransient(type);
        }

        services.AddHostedService<DatabaseMigrator>();
        services.AddHostedService<StartupReport>();
        services.AddHostedService<PredecessorLeaseRelease>();
        services.AddProblemDetails();
        services.AddOrchestratorAuth(configuration);
        services.AddOrchestratorOperations();
        services.AddMonitoring();
        services.AddIncidentApi();
        return services;
    }

    /// <summary>Admin state shared by every instance, <c>/metrics</c> and <c>/health</c>.</summary>
    private static IServiceCollection AddOrchestratorOperations(this IServiceCollection services)
    {
        services.AddOptions<OperationsOptions>().BindConfiguration(OperationsOptions.SectionName).ValidateDataAnnotations(OperationsOptions.SectionName).ValidateOnStart();
        services.AddOptions<MetricsOptions>().BindConfiguration(MetricsOptions.SectionName).ValidateDataAnnotations(MetricsOptions.SectionName).ValidateOnStart();
        services.AddOptions<HealthOptions>().BindConfiguration(HealthOptions.SectionName).ValidateDataAnnotations(HealthOptions.SectionName).ValidateOnStart();
        services.AddOptions<SharedBreakerOptions>()
            .BindConfiguration(SharedBreakerOptions.SectionName)
            .PostConfigure<IOptions<LlmOptions>>((breakers, llm) => breakers.ProbeLease ??= llm.Value.ResolveProviders().Values.Max(p => p.Timeout) + SharedBreakerOptions.ProbeLeaseMargin)
            .ValidateDataAnnotations(SharedBreakerOptions.SectionName)
            .ValidateOnStart();
        services.AddSingleton<CircuitBreakerStore>();
        services.AddSingleton<CircuitBreakerRegistry>();
        services.AddHostedService<CircuitBreakerSync>();
        services.AddSingleton<OperationsStore>();
        services.AddSingleton<ClusterState>();
        services.AddHostedService(sp => sp.GetRequiredService<ClusterState>());
        services.AddSingleton<AdminHttpHandlers>();
        services.AddSingleton<OrchestratorMetrics>();
        services.AddSingleton<NpgsqlPoolMetrics>();
        services.AddSingleton<ClusterMetrics>();
        services.AddSingleton<MetricsEndpoint>();
        services.AddSingleton<ReplicaDataSource>();

        services.AddHealthChecks()
            .Add(new HealthCheckRegistration(
                "postgres",
                sp => new TimeLimitedHealthCheck(
                    new NpgSqlHealthCheck(new NpgSqlHealthCheckOptions(sp.GetRequiredService<NpgsqlDataSource>())
                    {
                        CommandText = "SELECT pg_is_in_recovery()",
                        // Connected, but to a server in recovery: every write would fail.
                        HealthCheckResultBuilder = inRecovery => inRecovery is true
                            ? HealthCheckResult.Unhealthy("connected to a server in recovery (a replica): writes would fail")
                            : HealthCheckResult.Healthy("primary reachable"),
                    }),
                    HealthCheckTimeout),
                HealthStatus.Unhealthy,
                [HealthTags.Ready],
                HealthCheckTimeout))
            .AddCheck<ReplicaHealthCheck>("postgres-replica", HealthStatus.Degraded, [], HealthCheckTimeout)
            .AddCheck<MaintenanceHealthCheck>("maintenance", HealthStatus.Degraded, [])
            .AddCheck<LlmChaosHealthCheck>("llm-chaos", HealthStatus.Degraded, [])
            .AddCheck<LlmBreakerHealthCheck>("llm-breakers", HealthStatus.Degraded, []);
        return services;
    }

    private static readonly TimeSpan HealthCheckTimeout = TimeSpan.FromSeconds(3);

    /// <summary>The OpenAI SDK's own variables apply when the Llm section does not say otherwise.</summary>
    private static void ApplyOpenAiEnvironment(LlmOptions options, IConfiguration configuration)
    {
        if (string.IsNullOrWhiteSpace(options.Endpoint) && configuration["OPENAI_BASE_URL"] is { Length: > 0 } baseUrl)
        {
            options.Endpoint = baseUrl;
        }

        if (string.IsNullOrWhiteSpace(options.ApiKey) && configuration["OPENAI_API_KEY"] is { Length: > 0 } key)
        {
            options.ApiKey = key;
        }

        if (configuration[$"{LlmOptions.SectionName}:Model"] is null && configuration["OPENAI_MODEL"] is { Length: > 0 } model)
        {
            options.Model = model;
        }
    }

    private static NpgsqlDataSource CreateDataSource(IServiceProvider services)
    {
        var options = services.GetRequiredService<IOptions<PostgresOptions>>().Value;
        var builder = new NpgsqlConnectionStringBuilder(options.ConnectionString)
        {
            MaxPoolSize = options.MaxPoolSize,
            MinPoolSize = options.MinPoolSize,
            Timeout = options.ConnectionTimeoutSeconds,
            CommandTimeout = options.CommandTimeoutSeconds,
        };
        if (string.IsNullOrEmpty(builder.ApplicationName))
        {
            builder.ApplicationName = "llm-orchestrator";
        }

        // The statements the product runs thousands of times a minute (the durable task hub's above all) are prepared
        // once per connection, and a connection going back to the pool is not reset (DISCARD ALL), since nothing on
        // this pool leaves session state behind: both save server work on every statement. A connection string that
        // sets either keeps its own value (Max Auto Prepare=0 behind a PgBouncer in transaction mode).
        var written = new System.Data.Common.DbConnectionStringBuilder { ConnectionString = options.ConnectionString };
        if (!written.ContainsKey("Max Auto Prepare") && !written.ContainsKey("MaxAutoPrepare"))
        {
            builder.MaxAutoPrepare = 64;
        }

        if (!written.ContainsKey("No Reset On Close") && !written.ContainsKey("NoResetOnClose"))
        {
            builder.NoResetOnClose = true;
        }

        // The name is the pool name in Npgsql's metrics, which feed the db_pool_* series.
        return services.GetRequiredService<PostgresAuthentication>().CreateDataSource(builder.ConnectionString, NpgsqlPoolMetrics.DataSourceName);
    }

    /// <summary>Says at start which LLM provider is in use — loudly when it is the simulated one.</summary>
    private sealed class StartupReport(
        IOptions<LlmOptions> llm, DefinitionRegistry registry, LlmGateway gateway, IOptions<AuthOptions> auth, IConfiguration configuration, ILogger<StartupReport> logger) : IHostedService
    {
        public Task StartAsync(CancellationToken cancellationToken)
        {
            foreach (var key in UnresolvedSecretReferences.In(configuration))
            {
                Log.UnresolvedSecretReference(logger, key);
            }

            // Resolving the registry loads and validates every definition now, not at the first request; building the
            // gateway registers its breakers, so /metrics shows them before the first call.
            _ = registry.Names;
            _ = gateway.ProviderNames;
            if (auth.Value.Disabled)
            {
                Log.AuthDisabled(logger);
            }

            var options = llm.Value;
            if (options.EffectiveProvider == LlmOptions.Simulated)
            {
                Log.SimulatedProvider(logger);
            }
            else
            {
                Log.LlmProvider(logger, options.EffectiveProvider, options.Endpoint ?? "https://api.openai.com/v1", options.Model);
            }

            return Task.CompletedTask;
        }

        public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
    }
}
