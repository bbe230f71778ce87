using Orchestrator.Server.Durable;
using Orchestrator.Server.Tests.Infrastructure;
using Xunit.Abstractions;

namespace Orchestrator.Server.Tests.Drills;

/// <summary>
/// The runbook's "Network partition" row (RTO 1 min, RPO 0): the paths from the Server to PostgreSQL, to the task hub
/// storage and to the LLM provider black-holed for 45 s — packets dropped, nothing reset — through fault proxies,
/// while twenty runs are in flight. When the network heals, work goes on where it stopped. On the Postgres backend the
/// task hub is in the database, behind the PostgreSQL proxy; on AzureStorage Azurite's three ports get proxies too.
/// </summary>
[Collection(DrillCollection.Name)]
public sealed class PartitionDrills(DrillCluster cluster, ITestOutputHelper output)
{
    private static readonly TimeSpan Rto = TimeSpan.FromMinutes(1);
    private static readonly TimeSpan Partition = TimeSpan.FromSeconds(45);

    [Fact]
    [Trait("Scenario", "network-partition")]
    public async Task Black_holing_the_database_the_task_hub_and_the_llm_for_45_seconds_loses_nothing()
    {
        var database = await cluster.NewDatabaseAsync("drill_partition");
        await using var postgres = await FaultProxy.StartAsync("127.0.0.1", cluster.Primary.Port);
        var azureStorage = TestEnvironment.DurableBackend == DurableBackendKind.AzureStorage;
        await using var blob = azureStorage ? await FaultProxy.StartAsync("127.0.0.1", 10000) : null;
        await using var queue = azureStorage ? await FaultProxy.StartAsync("127.0.0.1", 10001) : null;
        await using var table = azureStorage ? await FaultProxy.StartAsync("127.0.0.1", 10002) : null;
        FaultProxy[] proxies = azureStorage ? [postgres, blob!, queue!, table!] : [postgres];

        var settings = azureStorage
            ? new Dictionary<string, string?>
            {
                ["Durable__StorageConnectionString"] = $"DefaultEndpointsProtocol=http;AccountName=devstoreaccount1;AccountKey={TestEnvironment.AzuriteAccountKey};" +
                    $"BlobEndpoint=http://127.0.0.1:{blob!.Port}/devstoreaccount1;QueueEndpoint=http://127.0.0.1:{queue!.Port}/devstoreaccount1;TableEndpoint=http://127.0.0.1:{table!.Port}/devstoreaccount1;",
            }
            : null;
        FaultProxy? llm = null;
        await using var drill = await DrillWorkload.StartAsync(
            cluster.Direct(database),
            serverPostgres: postgres.ForNpgsql(cluster.Direct(database)),
            serverLlm: url =>
            {
                llm = FaultProxy.StartAsync(new Uri(url)).GetAwaiter().GetResult();
                return llm.ForUrl(url);
            },
            settings: settings);
        await using var llmPartition = llm!;
        proxies = [.. proxies, llm!];

        await drill.StartRunsAsync();
        await drill.WaitForCompletedStepsAsync(DrillWorkload.Runs);
        var atFault = await drill.CompletedStepsAsync();
        try
        {
            foreach (var proxy in proxies)
            {
                proxy.BlackHole();
            }

            await Task.Delay(Partition);
        }
        finally
        {
            foreach (var proxy in proxies)
            {
                proxy.Pass();
            }
        }

        var healed = DateTimeOffset.UtcNow;
        var (first, all) = await drill.MeasureRecoveryAsync(healed, (await drill.CompletedStepsAsync()).Count, Rto + TimeSpan.FromMinutes(2));
        var rebought = drill.Rebought(atFault, await drill.RunLabelsAsync());
        var result = new DrillResult("network partition (45 s)", first, all, $"{rebought} completed steps lost", rebought == 0, Rto, "0", rebought);
        DrillReport.Write(output, result);

        await drill.AssertAllCompletedAndAgreeingAsync();
        result.AssertRecovered();
    }
}
