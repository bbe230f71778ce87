using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Orchestrator.Core.Monitoring;

/// <summary>
/// The Server's timers: every enabled check runs on its NCRONTAB schedule, on the one instance that holds the
/// check's advisory lock (<see cref="MonitorLocks"/>). The Functions app uses timer triggers instead.
/// </summary>
public sealed class MonitorScheduler(
    MonitorRunner runner, MonitorLocks locks, IOptions<MonitorsOptions> options, TimeProvider time, ILogger<MonitorScheduler> logger)
    : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        if (!options.Value.Enabled)
        {
            return;
        }

        var checks = runner.Checks.Where(c => c.Options.Enabled).ToList();
        Log.MonitorsScheduled(logger, checks.Count);
        try
        {
            await Task.WhenAll(checks.Select(check => RunOnScheduleAsync(check, stoppingToken)));
        }
        finally
        {
            await locks.DisposeAsync();
        }
    }

    private async Task RunOnScheduleAsync(IMonitorCheck check, CancellationToken stoppingToken)
    {
        var schedule = check.Options.ParsedSchedule();
        while (!stoppingToken.IsCancellationRequested)
        {
            var now = time.GetUtcNow().UtcDateTime;
            var next = schedule.GetNextOccurrence(now);
            try
            {
                await Task.Delay(next - now, time, stoppingToken);
                if (await locks.HoldAsync(check.Name, stoppingToken) || (check.WatchesTheDatabase && locks.HeldWhenLost(check.Name)))
                {
                    await runner.RunAsync(check, stoppingToken);
                }
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                return;
            }
        }
    }
}
