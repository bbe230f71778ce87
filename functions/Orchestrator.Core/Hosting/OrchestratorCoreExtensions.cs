using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Npgsql;
using Orchestrator.Core.Api;
using Orchestrator.Core.Definitions;
using Orchestrator.Core.Health;
using Orchestrator.Core.Llm;
using Orchestrator.Core.Persistence;
using Orchestrator.Core.Workflows;

namespace Orchestrator.Core.Hosting;

/// <summary>Registers everything the product's core needs; both hosts call this once.</summary>
public static class OrchestratorCoreExtensions
{
    public static IServiceCollection AddOrchestratorCore(this IServiceCollection services, IConfiguration configuration)
    {
        services.AddOptions<PostgresOptions>().BindConfiguration(PostgresOptions.SectionName).ValidateDataAnnotations().ValidateOnStart();
        services.AddOptions<ApiOptions>().BindConfiguration(ApiOptions.SectionName).ValidateDataAnnotations().ValidateOnStart();
        services.AddOptions<DefinitionOptions>().BindConfiguration(DefinitionOptions.SectionName);
        services.AddOptions<LlmOptions>()
            .BindConfiguration(LlmOptions.SectionName)
            .PostConfigure(options => ApplyOpenAiEnvironment(options, configuration))
            .ValidateDataAnnotations()
            .Validate(o => o.EffectiveProvider is LlmOptions.OpenAi or LlmOptions.Simulated, "Llm:Provider must be 'openai' or 'simulated'.")
            .ValidateOnStart();

        services.AddSingleton(TimeProvider.System);
        services.AddSingleton(CreateDataSource);
        services.AddSingleton<WorkflowStore>();
        services.AddSingleton(sp => DefinitionRegistry.FromFolder(sp.GetRequiredService<IOptions<DefinitionOptions>>(), sp.GetRequiredService<ILogger<DefinitionRegistry>>()));
        services.AddSingleton<WorkflowRuns>();
        services.AddSingleton<WorkflowHttpHandlers>();
        services.AddSingleton<DefinitionHttpHandlers>();
        services.AddSingleton<DurableHttpApi>();
        services.AddSingleton<LlmGateway>();
        foreach (var (_, type) in DurableTasks.Activities)
        {
            services.AddTransient(type);
        }

        services.AddHostedService<DatabaseMigrator>();
        services.AddHostedService<StartupReport>();
        services.AddProblemDetails();
        services.AddHealthChecks().AddCheck<PostgresHealthCheck>("postgres", tags: ["ready"]);
        return services;
    }

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

        return new NpgsqlDataSourceBuilder(builder.ConnectionString)
            .UseLoggerFactory(services.GetRequiredService<ILoggerFactory>())
            .Build();
    }

    /// <summary>Says at start which LLM provider is in use — loudly when it is the simulated one.</summary>
    private sealed class StartupReport(IOptions<LlmOptions> llm, DefinitionRegistry registry, ILogger<StartupReport> logger) : IHostedService
    {
        public Task StartAsync(CancellationToken cancellationToken)
        {
            // Resolving the registry loads and validates every definition now, not at the first request.
            _ = registry.Names;
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
