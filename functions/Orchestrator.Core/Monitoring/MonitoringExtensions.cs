using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using Orchestrator.Core.Hosting;
using Orchestrator.Core.Incidents;
using Orchestrator.Core.Incidents.Notices;
using Orchestrator.Core.Monitoring.Checks;

namespace Orchestrator.Core.Monitoring;

/// <summary>Registers the monitors, the incident engine and its options; <see cref="AddMonitorScheduler"/> adds the Server's timers.</summary>
public static class MonitoringExtensions
{
    public static IServiceCollection AddMonitoring(this IServiceCollection services)
    {
        services.AddOptions<MonitorsOptions>().BindConfiguration(MonitorsOptions.SectionName).ValidateDataAnnotations(MonitorsOptions.SectionName).ValidateOnStart();
        services.AddOptions<NoticeTemplates>()
            .BindConfiguration(NoticeTemplates.SectionName)
            .ValidateOnStart();
        services.AddSingleton<IValidateOptions<NoticeTemplates>, NoticeTemplatesValidator>();
        services.AddMonitorChecks();
        services.AddIncidentNotices(runSender: false);
        services.AddSingleton<IDirectNoticeSender>(sp => sp.GetRequiredService<NoticeDispatcher>());
        services.AddSingleton<IncidentEngine>();
        services.AddSingleton<MonitorRunner>();
        return services;
    }

    /// <summary>
    /// Runs the checks in this process on their schedules, each only while this instance holds its advisory lock, and
    /// the notice sender loop (woken by the engine whenever it writes notices).
    /// </summary>
    public static IServiceCollection AddMonitorScheduler(this IServiceCollection services)
    {
        services.AddSingleton<NoticeSender>();
        services.AddSingleton<INoticeSignal>(sp => sp.GetRequiredService<NoticeSender>());
        services.AddHostedService(sp => sp.GetRequiredService<NoticeSender>());
        services.AddSingleton<MonitorLocks>();
        services.AddHostedService<MonitorScheduler>();
        return services;
    }

    private sealed class NoticeTemplatesValidator : IValidateOptions<NoticeTemplates>
    {
        public ValidateOptionsResult Validate(string? name, NoticeTemplates options) =>
            options.Errors().ToList() is { Count: > 0 } errors ? ValidateOptionsResult.Fail(errors) : ValidateOptionsResult.Success;
    }
}
