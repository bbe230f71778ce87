using Microsoft.Extensions.DependencyInjection;
using Orchestrator.Core.Hosting;

namespace Orchestrator.Core.Llm.Limits;

/// <summary>Registers the cluster-wide LLM limits (<c>Llm:Limits</c>) and the factory the gateway builds them with.</summary>
public static class LlmLimitsExtensions
{
    public static IServiceCollection AddLlmLimits(this IServiceCollection services)
    {
        services.AddOptions<LlmLimitOptions>().BindConfiguration(LlmLimitOptions.SectionName).ValidateDataAnnotations(LlmLimitOptions.SectionName).ValidateOnStart();
        services.AddSingleton<ProviderLimiterFactory>();
        return services;
    }
}
