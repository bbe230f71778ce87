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
/// provider, through the same shims the Durable SDK uses, so the Core classes run unchanged.
/// </summary>
public sealed class DurableTaskHub(
    AzureStorageOrchestrationService service,
    IServiceProvider services,
    IOptions<DurableServerOptions> options,
    ILoggerFactory loggerFactory,
    ILogger<DurableTaskHub> logger) : IHostedService, IAsyncDisposable
{
    private TaskHubWorker? worker;

    public async Task StartAsync(CancellationToken cancellationToken)
    {
        await service.CreateIfNotExistsAsync();
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

        worker = new TaskHubWorker(service, orchestrations, activities, loggerFactory)
        {
            ErrorPropagationMode = ErrorPropagationMode.UseFailureDetails,
        };
        await worker.StartAsync();
        ServerLog.TaskHubStarted(logger, options.Value.TaskHubName, options.Value.EffectiveWorkerId);
    }

    public async Task StopAsync(CancellationToken cancellationToken)
    {
        if (worker is not null)
        {
            await worker.StopAsync(isForced: true);
            worker = null;
        }
    }

    public async ValueTask DisposeAsync()
    {
        await StopAsync(CancellationToken.None);
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
