using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Options;
using Orchestrator.Core.Hosting;
using Orchestrator.Core.Monitoring;

namespace Orchestrator.Core.Incidents.Notices;

/// <summary>Registers the notice senders: <c>Notices:*</c> options, the <c>notices</c> HTTP client, the dispatcher, its hosted loop and the <c>incident-notices</c> health check.</summary>
public static class IncidentNoticesExtensions
{
    private static readonly TimeSpan HealthCheckTimeout = TimeSpan.FromSeconds(3);

    /// <summary>
    /// Everything notices need. <paramref name="runSender"/>: whether this host runs the <see cref="NoticeSender"/> loop
    /// (the Server does; a host that calls <see cref="NoticeDispatcher.DispatchAsync"/> from its own timer need not).
    /// Expects <see cref="TimeProvider"/>, <see cref="InstanceIdentity"/>, <c>PostgresOptions</c> (for the monitors'
    /// pool, <see cref="MonitoringExtensions.AddMonitorDataSource"/>) and <c>OrchestratorMetrics</c> from the core
    /// registration.
    /// </summary>
    public static IServiceCollection AddIncidentNotices(this IServiceCollection services, bool runSender = true)
    {
        if (services.Any(d => d.ServiceType == typeof(NoticeDispatcher)))
        {
            return services;
        }

        services.AddOptions<NoticeOptions>().BindConfiguration(NoticeOptions.SectionName).ValidateDataAnnotations(NoticeOptions.SectionName).ValidateOnStart();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<NoticeOptions>, NoticeOptionsValidator>());

        // Per-attempt time limits are the dispatcher's (Notices:RequestTimeout, on the TimeProvider); the factory's
        // logging handlers would log every request's URL, which is the webhook's secret.
        services.AddHttpClient(NoticeDispatcher.HttpClientName, client => client.Timeout = Timeout.InfiniteTimeSpan).RemoveAllLoggers();
        services.AddMonitorDataSource();
        services.AddSingleton<NoticeDispatcher>();
        if (runSender)
        {
            services.AddSingleton<NoticeSender>();
            services.AddHostedService(sp => sp.GetRequiredService<NoticeSender>());
        }

        services.AddHealthChecks().AddCheck<IncidentNoticesHealthCheck>(IncidentNoticesHealthCheck.Name, HealthStatus.Degraded, [], HealthCheckTimeout);
        return services;
    }
}
