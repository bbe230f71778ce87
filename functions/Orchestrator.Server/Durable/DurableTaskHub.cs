using DurableTask.Core;
using Microsoft.DurableTask;
using Microsoft.DurableTask.Worker;
using Microsoft.DurableTask.Worker.Shims;
using Microsoft.Extensions.Options;
using Orchestrator.Core.Workflows;

namespace Orchestrator.Server.Durable;

/// <summary>
/// Runs the product's orchestrations and activities on DurableTask.Core's worker over the configured backend
/// (PostgreSQL or Azure Storage), through the same shims the Durable SDK uses, so the Core classes run unchanged. On
/// Azure Storage a watchdog notices when the task hub's storage is lost (deleted, or the account restored to a point
/// before it existed), creates the task hub again and restarts the worker; the reconciler then resumes the runs
/// PostgreSQL still shows as unfinished.
/// </summary>
public sealed class DurableTaskHub(
    DurableBackend backend,
    IServiceProvider services,
    IOptions<DurableServerOptions> options,
    ILoggerFactory loggerFactory,
    ILogger<DurableTaskHub> logger) : IHostedService, IAsyncDisposable
{
    private readonly CancellationTokenSource stopping = new();
    private TaskHubWorker? worker;
    private IOrchestrationService? workerService;
    private DrainingOrchestrationService? draining;
    private Task? watchdog;

    public async Task StartAsync(CancellationToken cancellationToken)
    {
        await StartWorkerAsync();
        ServerLog.TaskHubStarted(logger, backend.Kind.ToString(), options.Value.TaskHubName, options.Value.EffectiveWorkerId);
        if (backend.CanBeLost)
        {
            watchdog = WatchAsync(stopping.Token);
        }
    }

    /// <summary>
    /// The first worker runs on the shared service; a restarted one gets a service of its own, because the Azure
    /// Storage provider remembers that it created the task hub and would not create it again.
    /// </summary>
    private async Task StartWorkerAsync()
    {
        var hub = workerService is null ? backend.Service : backend.CreateAnother();
        await hub.CreateIfNotExistsAsync();
        var shims = new DurableTaskShimFactory(new DurableTaskWorkerOptions(), loggerFactory);

        var orchestrations = new FactoryObjectManager<TaskOrchestration>();
        foreach (var (name, type) in DurableTasks.Orchestrators)
        {
            orchestrations.Add(new FactoryObjectCreator<TaskOrchestration>(name, () =>
                shims.CreateOrchestration(new TaskName(name), (ITaskOrchestrator)ActivatorUtilities.CreateInstance(services, type), parent: null)));
        }

        var activities = new FactoryObjectManager<TaskActivity>();
        foreach (var (name, type) in DurableTasks.Activities)
        {
            activities.Add(new FactoryObjectCreator<TaskActivity>(name, () =>
                shims.CreateActivity(new TaskName(name), (ITaskActivity)services.GetRequiredService(type))));
        }

        workerService = hub;
        draining = new DrainingOrchestrationService(hub);
        worker = new TaskHubWorker(draining, orchestrations, activities, loggerFactory)
        {
            ErrorPropagationMode = ErrorPropagationMode.UseFailureDetails,
        };
        await worker.StartAsync();
    }

    /// <summary>Every <see cref="DurableServerOptions.TaskHubCheckInterval"/>: is the task hub's storage still there?</summary>
    private async Task WatchAsync(CancellationToken cancellationToken)
    {
        using var timer = new PeriodicTimer(options.Value.TaskHubCheckInterval);
        try
        {
            while (await timer.WaitForNextTickAsync(cancellationToken))
            {
                try
                {
                    if (await backend.ExistsAsync(cancellationToken))
                    {
                        continue;
                    }

                    ServerLog.TaskHubLost(logger, options.Value.TaskHubName);
                    await StopWorkerAsync();
                    await StartWorkerAsync();
                    ServerLog.TaskHubRecreated(logger, options.Value.TaskHubName);
                }
                catch (Exception ex) when (ex is not OperationCanceledException)
                {
                    // Storage unreachable: the worker waits it out by itself; check again on the next tick.
                    ServerLog.TaskHubCheckFailed(logger, options.Value.TaskHubName, ex.Message);
                }
            }
        }
        catch (OperationCanceledException)
        {
        }
    }

    /// <summary>
    /// A graceful stop (SIGTERM, Ctrl-C, a rolling update): no new work is taken, the steps in flight run to the end
    /// and are recorded, for up to <see cref="DurableServerOptions.DrainTimeout"/>; then the worker stops. A step
    /// still running then is given back and re-run elsewhere after the visibility timeout, as after a crash.
    /// </summary>
    public async Task StopAsync(CancellationToken cancellationToken)
    {
        await stopping.CancelAsync();
        if (watchdog is not null)
        {
            await watchdog;
        }

        await DrainAsync(cancellationToken);
        await StopWorkerAsync();
    }

    private async Task DrainAsync(CancellationToken cancellationToken)
    {
        if (draining is not { } service || worker is null)
        {
            return;
        }

        service.BeginDrain();
        var (activitiesAtStart, episodesAtStart) = (service.ActivitiesInFlight, service.OrchestrationsInFlight);
        if (activitiesAtStart + episodesAtStart == 0)
        {
            ServerLog.NothingToDrain(logger, options.Value.TaskHubName);
            return;
        }

        var timeout = options.Value.DrainTimeout;
        ServerLog.Draining(logger, activitiesAtStart, episodesAtStart, timeout.TotalSeconds);
        var started = TimeProvider.System.GetTimestamp();
        if (await service.WaitForIdleAsync(timeout, cancellationToken))
        {
            ServerLog.Drained(logger, activitiesAtStart, TimeProvider.System.GetElapsedTime(started).TotalSeconds);
        }
        else
        {
            ServerLog.DrainTimedOut(logger, service.ActivitiesInFlight, service.OrchestrationsInFlight, TimeProvider.System.GetElapsedTime(started).TotalSeconds);
        }
    }

    private async Task StopWorkerAsync()
    {
        if (worker is not null)
        {
            // A worker whose storage vanished may never finish stopping; it is abandoned after a while.
            await Task.WhenAny(worker.StopAsync(isForced: true), Task.Delay(TimeSpan.FromSeconds(15)));
            worker = null;
            draining = null;
            if (workerService is not null && !ReferenceEquals(workerService, backend.Service))
            {
                await DurableBackend.DisposeServiceAsync(workerService);
            }
        }
    }

    public async ValueTask DisposeAsync()
    {
        await StopAsync(CancellationToken.None);
        stopping.Dispose();
    }
}
