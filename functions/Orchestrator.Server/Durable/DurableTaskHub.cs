using Azure.Storage.Queues;
using DurableTask.AzureStorage;
using DurableTask.Core;
using Microsoft.DurableTask;
using Microsoft.DurableTask.Worker;
using Microsoft.DurableTask.Worker.Shims;
using Microsoft.Extensions.Options;
using Orchestrator.Core.Workflows;

namespace Orchestrator.Server.Durable;

/// <summary>
/// Runs the product's orchestrations and activities on DurableTask.Core's worker over the Azure Storage
/// provider, through the same shims the Durable SDK uses, so the Core classes run unchanged. A watchdog notices when
/// the task hub's storage is lost (deleted, or the account restored to a point before it existed), creates the task
/// hub again and restarts the worker; the reconciler then resumes the runs PostgreSQL still shows as unfinished.
/// </summary>
public sealed class DurableTaskHub(
    AzureStorageOrchestrationService service,
    IServiceProvider services,
    IOptions<DurableServerOptions> options,
    ILoggerFactory loggerFactory,
    ILogger<DurableTaskHub> logger) : IHostedService, IAsyncDisposable
{
    private readonly CancellationTokenSource stopping = new();
    private TaskHubWorker? worker;
    private AzureStorageOrchestrationService? workerService;
    private DrainingOrchestrationService? draining;
    private Task? watchdog;

    public async Task StartAsync(CancellationToken cancellationToken)
    {
        await StartWorkerAsync();
        ServerLog.TaskHubStarted(logger, options.Value.TaskHubName, options.Value.EffectiveWorkerId);
        watchdog = WatchAsync(stopping.Token);
    }

    /// <summary>
    /// The first worker runs on the shared service; a restarted one gets a service of its own, because the provider
    /// remembers that it created the task hub and would not create it again.
    /// </summary>
    private async Task StartWorkerAsync()
    {
        var hub = workerService is null ? service : CreateService(services);
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

    /// <summary>Every <see cref="DurableServerOptions.TaskHubCheckInterval"/>: is the task hub's work-item queue still there?</summary>
    private async Task WatchAsync(CancellationToken cancellationToken)
    {
        var queue = new QueueServiceClient(options.Value.StorageConnectionString).GetQueueClient(options.Value.TaskHubName.ToLowerInvariant() + "-workitems");
        using var timer = new PeriodicTimer(options.Value.TaskHubCheckInterval);
        try
        {
            while (await timer.WaitForNextTickAsync(cancellationToken))
            {
                try
                {
                    if (await queue.ExistsAsync(cancellationToken))
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
            if (workerService is not null && !ReferenceEquals(workerService, service))
            {
                workerService.Dispose();
            }
        }
    }

    public async ValueTask DisposeAsync()
    {
        await StopAsync(CancellationToken.None);
        stopping.Dispose();
        service.Dispose();
    }

    /// <summary>The Azure Storage provider with the RTO-tuned settings.</summary>
    public static AzureStorageOrchestrationService CreateService(IServiceProvider services)
    {
        var options = services.GetRequiredService<IOptions<DurableServerOptions>>().Value;
        return new AzureStorageOrchestrationService(new AzureStorageOrchestrationServiceSettings
        {
            StorageAccountClientProvider = new StorageAccountClientProvider(options.StorageConnectionString),
            TaskHubName = options.TaskHubName,
            WorkerId = options.EffectiveWorkerId,
            PartitionCount = options.PartitionCount,
            WorkItemQueueVisibilityTimeout = options.VisibilityTimeout,
            ControlQueueVisibilityTimeout = options.VisibilityTimeout,
            MaxQueuePollingInterval = options.MaxQueuePollingInterval,
            LeaseInterval = options.LeaseInterval,
            LeaseRenewInterval = options.LeaseRenewInterval,
            LeaseAcquireInterval = options.LeaseAcquireInterval,
            MaxConcurrentTaskActivityWorkItems = options.MaxConcurrentActivities,
            MaxConcurrentTaskOrchestrationWorkItems = options.MaxConcurrentOrchestrations,
            LoggerFactory = services.GetRequiredService<ILoggerFactory>(),
        });
    }
}
