using DurableTask.AzureStorage;
using Orchestrator.Server.Tests.Infrastructure;
using Xunit.Abstractions;

namespace Orchestrator.Server.Tests.Drills;

/// <summary>
/// The runbook's "Task hub loss" row (RTO 2 min, RPO 0 completed steps): the task hub's storage — its queues, tables
/// and lease blobs — deleted while twenty runs are in flight, as when the storage account is lost or restored to an
/// older point. The runs PostgreSQL still shows as Running resume from their recorded steps. Azure Storage only: on the
/// Postgres backend the task hub is part of the database, which the database drills crash, lose and restore.
/// </summary>
[Collection(DrillCollection.Name)]
public sealed class TaskHubLossDrills(DrillCluster cluster, ITestOutputHelper output)
{
    private static readonly TimeSpan Rto = TimeSpan.FromMinutes(2);

    [AzureStorageFact("the drill deletes the task hub's queues, tables and lease blobs in Azure Storage")]
    [Trait("Scenario", "taskhub-loss")]
    public async Task Wiping_the_task_hub_storage_loses_no_completed_step()
    {
        await using var drill = await DrillWorkload.InFlightAsync(cluster, "drill_taskhub");

        var atFault = await drill.CompletedStepsAsync();
        using (var hub = new AzureStorageOrchestrationService(new AzureStorageOrchestrationServiceSettings
        {
            StorageAccountClientProvider = new StorageAccountClientProvider(TestEnvironment.Azurite),
            TaskHubName = drill.TaskHub,
        }))
        {
            await hub.DeleteAsync(deleteInstanceStore: true);
        }

        var injected = DateTimeOffset.UtcNow;
        var (first, all) = await drill.MeasureRecoveryAsync(injected, atFault.Count, Rto + TimeSpan.FromMinutes(1));
        var rebought = drill.Rebought(atFault, await drill.RunLabelsAsync());
        var result = new DrillResult("task hub loss", first, all, $"{rebought} completed steps lost", rebought == 0, Rto, "0 completed steps", rebought);
        DrillReport.Write(output, result);

        await drill.AssertAllCompletedAndAgreeingAsync();
        result.AssertRecovered();
    }
}
