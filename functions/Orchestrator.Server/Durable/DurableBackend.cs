using Azure.Storage.Queues;
using DurableTask.AzureStorage;
using DurableTask.Core;
using DurableTask.Core.Query;
using Microsoft.Extensions.Options;
using Npgsql;
using Orchestrator.Durable.Postgres;

namespace Orchestrator.Server.Durable;

/// <summary>
/// The task hub's store, as <see cref="DurableServerOptions.Backend"/> chooses it: the orchestration service the
/// worker runs on, the same service as the client sees it, and what the Azure Storage provider alone needs (a
/// fresh service after its storage was lost, and the check that notices the loss).
/// </summary>
public sealed class DurableBackend : IAsyncDisposable
{
    private readonly Func<IOrchestrationService>? recreate;
    private readonly Func<CancellationToken, Task<bool>>? exists;

    private DurableBackend(DurableBackendKind kind, IOrchestrationService service, Func<IOrchestrationService>? recreate, Func<CancellationToken, Task<bool>>? exists)
    {
        Kind = kind;
        Service = service;
        this.recreate = recreate;
        this.exists = exists;
        Client = (IOrchestrationServiceClient)service;
    }

    public DurableBackendKind Kind { get; }

    public IOrchestrationService Service { get; }

    public IOrchestrationServiceClient Client { get; }

    public IOrchestrationServiceQueryClient Query => (IOrchestrationServiceQueryClient)Service;

    public IOrchestrationServicePurgeClient Purge => (IOrchestrationServicePurgeClient)Service;

    /// <summary>Whether the store can vanish under a running worker (Azure Storage's queues and tables can; the schema cannot).</summary>
    public bool CanBeLost => exists is not null;

    /// <summary>False when the task hub's storage is gone (deleted, or restored to a point before it existed).</summary>
    public Task<bool> ExistsAsync(CancellationToken cancellationToken) => exists?.Invoke(cancellationToken) ?? Task.FromResult(true);

    /// <summary>A new service over the same store, for a worker restarted after the store was lost.</summary>
    public IOrchestrationService CreateAnother() => recreate?.Invoke() ?? Service;

    public static DurableBackend Create(IServiceProvider services)
    {
        var options = services.GetRequiredService<IOptions<DurableServerOptions>>().Value;
        if (options.Backend == DurableBackendKind.AzureStorage)
        {
            var queue = new QueueServiceClient(options.StorageConnectionString).GetQueueClient(options.TaskHubName.ToLowerInvariant() + "-workitems");
            return new DurableBackend(
                DurableBackendKind.AzureStorage,
                CreateAzureStorageService(services),
                () => CreateAzureStorageService(services),
                async cancellationToken => await queue.ExistsAsync(cancellationToken));
        }

        return new DurableBackend(DurableBackendKind.Postgres, new PostgresOrchestrationService(new PostgresOrchestrationServiceSettings
        {
            DataSource = services.GetRequiredService<NpgsqlDataSource>(),
            WorkerId = options.EffectiveWorkerId,
            LockTimeout = options.VisibilityTimeout,
            MaxPollingInterval = options.MaxQueuePollingInterval,
            MaxConcurrentActivities = options.MaxConcurrentActivities,
            MaxConcurrentOrchestrations = options.MaxConcurrentOrchestrations,
            DispatcherCount = options.DispatcherCount,
            LoggerFactory = services.GetRequiredService<ILoggerFactory>(),
        }), recreate: null, exists: null);
    }

    /// <summary>The Azure Storage provider with the RTO-tuned settings.</summary>
    private static AzureStorageOrchestrationService CreateAzureStorageService(IServiceProvider services)
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

    /// <summary>Disposes a service this backend made (DurableTaskHub disposes the ones it asked for).</summary>
    public static async ValueTask DisposeServiceAsync(IOrchestrationService service)
    {
        switch (service)
        {
            case IAsyncDisposable asyncDisposable:
                await asyncDisposable.DisposeAsync();
                break;
            case IDisposable disposable:
                disposable.Dispose();
                break;
        }
    }

    public ValueTask DisposeAsync() => DisposeServiceAsync(Service);
}
