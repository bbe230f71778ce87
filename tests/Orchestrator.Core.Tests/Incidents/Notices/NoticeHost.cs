using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Time.Testing;
using Npgsql;
using Orchestrator.Core.Hosting;
using Orchestrator.Core.Incidents.Notices;
using Orchestrator.Core.Metrics;
using Orchestrator.Core.Monitoring;

namespace Orchestrator.Core.Tests.Incidents.Notices;

/// <summary>One "instance" of the notice senders, wired by <see cref="IncidentNoticesExtensions.AddIncidentNotices"/> on a fake clock.</summary>
internal sealed class NoticeHost : IAsyncDisposable
{
    public static readonly DateTimeOffset Start = new(2030, 1, 1, 12, 0, 0, TimeSpan.Zero);

    private readonly ServiceProvider provider;

    public NoticeHost(NpgsqlDataSource dataSource, FakeTimeProvider time, IDictionary<string, string?> settings, string instance = "instance-a", Action<IServiceCollection>? configure = null)
    {
        var configuration = new ConfigurationBuilder()
            .AddInMemoryCollection(new Dictionary<string, string?>
            {
                ["Notices:InitialBackoff"] = "00:00:01",
                ["Notices:MaxBackoff"] = "00:00:10",
            })
            .AddInMemoryCollection(settings)
            .Build();
        var services = new ServiceCollection();
        services.AddSingleton<IConfiguration>(configuration);
        services.AddLogging();
        services.AddSingleton<TimeProvider>(time);
        services.AddSingleton(new InstanceIdentity(instance));
        services.AddSingleton(dataSource);
        services.AddKeyedSingleton(MonitoringExtensions.DataSourceKey, dataSource);
        services.AddSingleton<OrchestratorMetrics>();
        services.AddIncidentNotices();
        configure?.Invoke(services);
        provider = services.BuildServiceProvider(validateScopes: true);
    }

    public NoticeDispatcher Dispatcher => provider.GetRequiredService<NoticeDispatcher>();

    public NoticeSender Sender => provider.GetRequiredService<NoticeSender>();

    public OrchestratorMetrics Metrics => provider.GetRequiredService<OrchestratorMetrics>();

    public T Get<T>() where T : notnull => provider.GetRequiredService<T>();

    public Task<HealthReport> HealthAsync() => provider.GetRequiredService<HealthCheckService>().CheckHealthAsync(r => r.Name == IncidentNoticesHealthCheck.Name);

    public double Count(string channel, string outcome) => Metrics.Notices.WithLabels(channel, outcome).Value;

    public ValueTask DisposeAsync() => provider.DisposeAsync();
}
