using Microsoft.Extensions.DependencyInjection;
using Orchestrator.Core.Hosting;

namespace Orchestrator.Core.Monitoring.Checks;

/// <summary>Registers the six checks as <see cref="IMonitorCheck"/> and their <c>Monitors:&lt;Check&gt;</c> options, validated at start.</summary>
public static class MonitorChecksExtensions
{
    /// <summary>
    /// Needs what <c>AddOrchestratorCore</c> registers: the primary <c>NpgsqlDataSource</c>, <c>ReplicaDataSource</c>,
    /// <c>NpgsqlPoolMetrics</c>, <c>InstanceIdentity</c> and <c>TimeProvider</c>.
    /// </summary>
    public static IServiceCollection AddMonitorChecks(this IServiceCollection services)
    {
        AddCheckOptions<ReplicaLagMonitorOptions>(services, ReplicaLagMonitorOptions.Name);
        AddCheckOptions<ConnectionPoolMonitorOptions>(services, ConnectionPoolMonitorOptions.Name);
        AddCheckOptions<PrimaryDatabaseMonitorOptions>(services, PrimaryDatabaseMonitorOptions.Name);
        AddCheckOptions<StuckWorkflowsMonitorOptions>(services, StuckWorkflowsMonitorOptions.Name);
        AddCheckOptions<FailureRateMonitorOptions>(services, FailureRateMonitorOptions.Name);
        AddCheckOptions<CircuitBreakersMonitorOptions>(services, CircuitBreakersMonitorOptions.Name);

        services.AddSingleton<IMonitorCheck, ReplicaLagCheck>();
        services.AddSingleton<IMonitorCheck, ConnectionPoolCheck>();
        services.AddSingleton<IMonitorCheck, PrimaryDatabaseCheck>();
        services.AddSingleton<IMonitorCheck, StuckWorkflowsCheck>();
        services.AddSingleton<IMonitorCheck, FailureRateCheck>();
        services.AddSingleton<IMonitorCheck, CircuitBreakersCheck>();
        return services;
    }

    /// <summary>The section of a check: <c>Monitors:ReplicaLag</c>.</summary>
    public static string SectionOf(string checkName) => $"{MonitorsOptions.SectionName}:{checkName}";

    private static void AddCheckOptions<T>(IServiceCollection services, string checkName)
        where T : MonitorCheckOptions
    {
        var section = SectionOf(checkName);
        services.AddOptions<T>()
            .BindConfiguration(section)
            .ValidateDataAnnotations(section)
            .Validate(
                o => MonitorCheckOptions.ParseSchedule(o.Schedule) is not null,
                $"{section}:Schedule is not an NCRONTAB expression (six fields with seconds first, e.g. */15 * * * * *, or the classic five)")
            .ValidateOnStart();
    }
}
