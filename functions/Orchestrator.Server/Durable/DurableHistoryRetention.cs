using Microsoft.DurableTask.Client;
using Microsoft.Extensions.Options;

namespace Orchestrator.Server.Durable;

/// <summary>
/// Keeps the task hub from growing without bound: every <see cref="DurableServerOptions.HistoryRetentionInterval"/>
/// it purges the instances that ended (completed, failed, terminated) and were created more than
/// <see cref="DurableServerOptions.HistoryRetention"/> ago, on either backend. Several Servers may run it at once;
/// a purge is idempotent.
/// </summary>
public sealed class DurableHistoryRetention(
    DurableTaskClient client,
    IOptions<DurableServerOptions> options,
    TimeProvider time,
    ILogger<DurableHistoryRetention> logger) : BackgroundService
{
    private static readonly OrchestrationRuntimeStatus[] Ended =
        [OrchestrationRuntimeStatus.Completed, OrchestrationRuntimeStatus.Failed, OrchestrationRuntimeStatus.Terminated];

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var retention = options.Value.HistoryRetention;
        if (retention <= TimeSpan.Zero)
        {
            return;
        }

        using var timer = new PeriodicTimer(options.Value.HistoryRetentionInterval, time);
        do
        {
            await PurgeOnceAsync(retention, stoppingToken);
        }
        while (await WaitAsync(timer, stoppingToken));
    }

    /// <summary>One pass; returns how many instances were purged.</summary>
    public async Task<int> PurgeOnceAsync(TimeSpan retention, CancellationToken cancellationToken)
    {
        var cutoff = time.GetUtcNow() - retention;
        try
        {
            var result = await client.PurgeAllInstancesAsync(new PurgeInstancesFilter(DateTimeOffset.UnixEpoch, cutoff, Ended), cancellationToken);
            if (result.PurgedInstanceCount > 0)
            {
                ServerLog.HistoryPurged(logger, result.PurgedInstanceCount, cutoff.UtcDateTime);
            }

            return result.PurgedInstanceCount;
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            ServerLog.HistoryPurgeFailed(logger, ex.Message);
            return 0;
        }
    }

    private static async Task<bool> WaitAsync(PeriodicTimer timer, CancellationToken cancellationToken)
    {
        try
        {
            return await timer.WaitForNextTickAsync(cancellationToken);
        }
        catch (OperationCanceledException)
        {
            return false;
        }
    }
}
