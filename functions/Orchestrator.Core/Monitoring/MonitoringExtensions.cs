using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Npgsql;
using Orchestrator.Core.Hosting;
using Orchestrator.Core.Incidents;
using Orchestrator.Core.Incidents.Notices;
using Orchestrator.Core.Monitoring.Checks;
using Orchestrator.Core.Persistence;

namespace Orchestrator.Core.Monitoring;

/// <summary>Registers the monitors, the incident engine and its options; <see cref="AddMonitorScheduler"/> adds the Server's timers.</summary>
public static class MonitoringExtensions
{
    /// <summary>
    /// The key of the monitors' <see cref="NpgsqlDataSource"/> (pool <c>monitor</c>, application name
    /// <c>llm-orchestrator-monitor</c>): the primary, through connections of its own.
    /// </summary>
    public const string DataSourceKey = "monitor";

    public static IServiceCollection AddMonitoring(this IServiceCollection services)
    {
        services.AddMonitorDataSource();
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

    /// <summary>The monitors' own pool on the primary (<see cref="DataSourceKey"/>), unless one is registered already.</summary>
    public static IServiceCollection AddMonitorDataSource(this IServiceCollection services)
    {
        services.TryAddSingleton<PostgresAuthentication>();
        services.TryAddKeyedSingleton(DataSourceKey, (sp, _) => CreateDataSource(sp));
        return services;
    }

    private static NpgsqlDataSource CreateDataSource(IServiceProvider services)
    {
        var postgres = services.GetRequiredService<IOptions<PostgresOptions>>().Value;
        var builder = new NpgsqlConnectionStringBuilder(postgres.ConnectionString)
        {
            MaxPoolSize = services.GetRequiredService<IOptions<MonitorsOptions>>().Value.MaxPoolSize,
            MinPoolSize = 0,
            Timeout = postgres.ConnectionTimeoutSeconds,
            CommandTimeout = postgres.CommandTimeoutSeconds,
        };
        builder.ApplicationName = string.IsNullOrEmpty(builder.ApplicationName) ? "llm-orchestrator-monitor" : builder.ApplicationName + "-monitor";
        return services.GetRequiredService<PostgresAuthentication>().CreateDataSource(builder.ConnectionString, DataSourceKey);
    }

    private sealed class NoticeTemplatesValidator : IValidateOptions<NoticeTemplates>
    {
        public ValidateOptionsResult Validate(string? name, NoticeTemplates options) =>
            options.Errors().ToList() is { Count: > 0 } errors ? ValidateOptionsResult.Fail(errors) : ValidateOptionsResult.Success;
    }
}
