using DurableTask.AzureStorage;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace Orchestrator.Durable.Postgres.Tests.Infrastructure;

/// <summary>
/// The Azure Storage provider's task hub for one test class, on Azurite (ORCH_TEST_AZURITE): a task hub name of its
/// own, deleted afterwards. The services have the Server's settings (DurableBackend), with the suite's lock timeout.
/// </summary>
public sealed class AzureStorageTaskHub : IAsyncLifetime
{
    public static string ConnectionString => Environment.GetEnvironmentVariable("ORCH_TEST_AZURITE") ?? "UseDevelopmentStorage=true";

    public string TaskHubName { get; } = $"conformance{Guid.NewGuid():N}"[..24];

    /// <summary>The service the tests' client and queries go through (never started as a worker).</summary>
    public AzureStorageOrchestrationService Client { get; private set; } = null!;

    public async Task InitializeAsync()
    {
        Client = CreateService("client", TimeSpan.FromSeconds(5), NullLoggerFactory.Instance);
        await Client.CreateIfNotExistsAsync();
    }

    public AzureStorageOrchestrationService CreateService(string workerId, TimeSpan lockTimeout, ILoggerFactory loggerFactory) =>
        new(new AzureStorageOrchestrationServiceSettings
        {
            StorageAccountClientProvider = new StorageAccountClientProvider(ConnectionString),
            TaskHubName = TaskHubName,
            WorkerId = workerId,
            PartitionCount = 4,
            WorkItemQueueVisibilityTimeout = lockTimeout,
            ControlQueueVisibilityTimeout = lockTimeout,
            MaxQueuePollingInterval = TimeSpan.FromSeconds(1),
            LeaseInterval = TimeSpan.FromSeconds(10),
            LeaseRenewInterval = TimeSpan.FromSeconds(3),
            LeaseAcquireInterval = TimeSpan.FromSeconds(2),
            LoggerFactory = loggerFactory,
        });

    public async Task DisposeAsync()
    {
        await Client.DeleteAsync();
        Client.Dispose();
    }
}
