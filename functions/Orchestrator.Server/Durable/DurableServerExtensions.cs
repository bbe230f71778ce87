using Orchestrator.Core.Monitoring;
using Microsoft.DurableTask.Client;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Orchestrator.Core.Api;
using Orchestrator.Core.Health;
using Orchestrator.Core.Hosting;

namespace Orchestrator.Server.Durable;

/// <summary>Wires the Server's durable backend: provider, worker, client and status-query URLs.</summary>
public static class DurableServerExtensions
{
    public static IServiceCollection AddDurableServer(this IServiceCollection services)
    {
        services.AddOptions<DurableServerOptions>().BindConfiguration(DurableServerOptions.SectionName).ValidateDataAnnotations(DurableServerOptions.SectionName).ValidateOnStart();
        services.AddOptions<HostOptions>().Configure<Microsoft.Extensions.Options.IOptions<DurableServerOptions>>(
            (host, durable) => host.ShutdownTimeout = durable.Value.DrainTimeout + DurableServerOptions.ShutdownMargin);
        services.AddSingleton(DurableBackend.Create);
        services.AddSingleton<DurableTaskClient, TaskHubDurableClient>();
        services.AddSingleton<IStatusQueryPayloadFactory, ServerStatusQueryPayloadFactory>();
        services.AddHostedService<DurableTaskHub>();
        services.AddHostedService<DurableHistoryRetention>();
        services.AddHostedService<Orchestrator.Core.Reconciliation.ReconcilerService>();
        services.AddMonitorScheduler();
        services.AddHealthChecks().AddCheck<DurableTaskHubHealthCheck>("taskhub", HealthStatus.Unhealthy, [HealthTags.Ready], TimeSpan.FromSeconds(3));
        return services;
    }
}
