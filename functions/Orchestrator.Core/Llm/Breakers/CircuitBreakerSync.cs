using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Orchestrator.Core.Llm.Breakers;

/// <summary>Keeps this instance's breakers in step with the cluster: <see cref="CircuitBreakerRegistry.SyncAsync"/> every sync interval.</summary>
public sealed class CircuitBreakerSync(CircuitBreakerRegistry breakers, TimeProvider time, ILogger<CircuitBreakerSync> logger) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(breakers.SyncInterval, time);
        do
        {
            try
            {
                await breakers.SyncAsync(stoppingToken);
            }
            catch (Exception ex) when (!stoppingToken.IsCancellationRequested)
            {
                // Not a database outage (SyncAsync handles those): keep syncing, the next tick may do better.
                Log.BreakerSyncFailed(logger, ex);
            }
        }
        while (await timer.WaitForNextTickAsync(stoppingToken));
    }
}
