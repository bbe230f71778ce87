using Microsoft.Azure.Functions.Worker;
using Microsoft.Extensions.Options;
using Orchestrator.Core.Monitoring;

namespace Orchestrator.Functions.Monitoring;

/// <summary>
/// The monitors on the Functions host's timers (NCRONTAB schedules from <c>Monitors__&lt;Check&gt;__Schedule</c>).
/// A timer trigger runs on one instance at a time (the host's singleton lock), so each check runs once per tick across
/// the app; the logic lives in Core.
/// </summary>
public sealed class MonitorFunctions(MonitorRunner runner, IOptions<MonitorsOptions> options)
{
    [Function("ReplicaLagMonitor")]
    public Task ReplicaLagAsync([TimerTrigger("%Monitors__ReplicaLag__Schedule%")] TimerInfo timer, CancellationToken cancellationToken) =>
        RunAsync(ReplicaLagMonitorOptions.Name, cancellationToken);

    [Function("ConnectionPoolMonitor")]
    public Task ConnectionPoolAsync([TimerTrigger("%Monitors__ConnectionPool__Schedule%")] TimerInfo timer, CancellationToken cancellationToken) =>
        RunAsync(ConnectionPoolMonitorOptions.Name, cancellationToken);

    [Function("PrimaryDatabaseMonitor")]
    public Task PrimaryDatabaseAsync([TimerTrigger("%Monitors__PrimaryDatabase__Schedule%")] TimerInfo timer, CancellationToken cancellationToken) =>
        RunAsync(PrimaryDatabaseMonitorOptions.Name, cancellationToken);

    [Function("StuckWorkflowsMonitor")]
    public Task StuckWorkflowsAsync([TimerTrigger("%Monitors__StuckWorkflows__Schedule%")] TimerInfo timer, CancellationToken cancellationToken) =>
        RunAsync(StuckWorkflowsMonitorOptions.Name, cancellationToken);

    [Function("FailureRateMonitor")]
    public Task FailureRateAsync([TimerTrigger("%Monitors__FailureRate__Schedule%")] TimerInfo timer, CancellationToken cancellationToken) =>
        RunAsync(FailureRateMonitorOptions.Name, cancellationToken);

    [Function("CircuitBreakersMonitor")]
    public Task CircuitBreakersAsync([TimerTrigger("%Monitors__CircuitBreakers__Schedule%")] TimerInfo timer, CancellationToken cancellationToken) =>
        RunAsync(CircuitBreakersMonitorOptions.Name, cancellationToken);

    private Task RunAsync(string check, CancellationToken cancellationToken) =>
        options.Value.Enabled ? runner.RunAsync(check, cancellationToken) : Task.CompletedTask;
}
