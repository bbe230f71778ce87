using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Time.Testing;
using Npgsql;
using Orchestrator.Core.Hosting;
using Orchestrator.Core.Incidents;
using Orchestrator.Core.Incidents.Notices;
using Orchestrator.Core.Metrics;
using Orchestrator.Core.Monitoring;
using Orchestrator.Core.Persistence;

namespace Orchestrator.Core.Tests.Monitoring;

/// <summary>
/// One instance's monitoring, wired by <see cref="MonitoringExtensions.AddMonitoring"/> as the hosts wire it — checks,
/// engine, ledger and senders — on a fake clock; a test runs a check and a notice pass when it decides. The workflows'
/// pool is <c>dataSource</c> (its pool name is the one the pool check reads); the monitors open their own
/// pool from <c>connectionString</c>, as the hosts do from <c>Postgres:ConnectionString</c>.
/// </summary>
internal sealed class MonitorHost : IAsyncDisposable
{
    private readonly ServiceProvider provider;

    public MonitorHost(
        NpgsqlDataSource dataSource, string connectionString, string? replicaConnectionString, FakeTimeProvider time, IDictionary<string, string?> settings, string? poolName = null)
    {
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(settings).Build();
        var services = new ServiceCollection();
        services.AddSingleton<IConfiguration>(configuration);
        services.AddLogging();
        services.AddSingleton<TimeProvider>(time);
        services.AddSingleton(new InstanceIdentity("monitor-host"));
        services.AddSingleton(dataSource);
        services.AddSingleton(Options.Create(new PostgresOptions { ConnectionString = connectionString, ReplicaConnectionString = replicaConnectionString }));
        services.AddSingleton<ReplicaDataSource>();
        services.AddSingleton<OrchestratorMetrics>();
        services.AddSingleton(sp => new NpgsqlPoolMetrics(sp.GetRequiredService<OrchestratorMetrics>(), poolName ?? NpgsqlPoolMetrics.DataSourceName));
        services.AddMonitoring();
        provider = services.BuildServiceProvider(validateScopes: true);
    }

    public MonitorRunner Runner => provider.GetRequiredService<MonitorRunner>();

    public NoticeDispatcher Dispatcher => provider.GetRequiredService<NoticeDispatcher>();

    public IncidentEngine Engine => provider.GetRequiredService<IncidentEngine>();

    /// <summary>Runs the check, then delivers whatever it wrote to the ledger (a pass the database refuses waits, as the sender loop's does).</summary>
    public async Task RunAsync(string check)
    {
        await Runner.RunAsync(check, default);
        try
        {
            await Dispatcher.DispatchAsync(default);
        }
        catch (Exception ex) when (ex is NpgsqlException or TimeoutException)
        {
            // The ledger is unreachable: its notices wait for the next pass.
        }
    }

    public ValueTask DisposeAsync() => provider.DisposeAsync();
}
