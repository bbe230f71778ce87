using DurableTask.Core;
using Orchestrator.Durable.Postgres.Tests.Infrastructure;
using Xunit.Abstractions;

namespace Orchestrator.Durable.Postgres.Tests;

/// <summary>The conformance suite on DurableTask.AzureStorage over Azurite: the provider the PostgreSQL one stands in for.</summary>
public sealed class AzureStorageProviderConformanceTests(AzureStorageTaskHub hub, ITestOutputHelper output)
    : DurableProviderConformance(output), IClassFixture<AzureStorageTaskHub>
{
    protected override IOrchestrationServiceClient Client => hub.Client;

    protected override IOrchestrationService CreateService(string workerId) => hub.CreateService(workerId, LockTimeout, LoggerFactory);

    /// <summary>
    /// A timer is a queue message made visible when it is due, and Azure Storage takes a message's visibility delay
    /// in whole seconds (Azure.Storage.Queues truncates it): a timer can fire up to a second early.
    /// </summary>
    protected override TimeSpan TimerEarliness => TimeSpan.FromSeconds(1);
}
