using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Orchestrator.Core.Api;

namespace Orchestrator.Core.Incidents;

/// <summary>Registers the incident API's read model and handlers (both hosts map the handlers to their routes).</summary>
public static class IncidentApiExtensions
{
    /// <summary>Needs the primary's <c>NpgsqlDataSource</c>, <c>TimeProvider</c>, <c>ApiOptions</c> and the <see cref="IncidentEngine"/> (<c>AddMonitoring</c>).</summary>
    public static IServiceCollection AddIncidentApi(this IServiceCollection services)
    {
        services.TryAddSingleton<IncidentQueries>();
        services.TryAddSingleton<IncidentHttpHandlers>();
        return services;
    }
}
