using Orchestrator.Server.Tests.Infrastructure;
using Xunit.Abstractions;

namespace Orchestrator.Server.Tests.Drills;

/// <summary>
/// The runbook's "Network partition" row (RTO 1 min, RPO 0): the paths from the Server to PostgreSQL, to the task hub
/// storage and to the LLM provider black-holed for 45 s — packets dropped, nothing reset — through fault proxies,
/// while twenty runs are in flight. When the network heals, work goes on where it stopped.
/// </summary>
[Collection(DrillCollection.Name)]
public sealed class PartitionDrills(DrillCluster cluster, ITestOutputHelper output)
{
    private const string DevelopmentAccountKey = "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==";
    private static readonly TimeSpan Rto = TimeSpan.FromMinutes(1);
    private static readonly TimeSpan Partition = TimeSpan.FromSeconds(45);

    [Fact]
    [Trait("Scenario", "network-partition")]
    public async Task Black_holing_the_database_the_task_hub_and_the_llm_for_45_seconds_loses_nothing()
    {
        var database = await cluster.NewDatabaseAsync("drill_partition");
        await using var postgres = await FaultProxy.StartAsync("127.0.0.1", cluster.Primary.Port);
        await using var blob = await FaultProxy.StartAsync("127.0.0.1", 10000);
        await using var queue = await FaultProxy.StartAsync("127.0.0.1", 10001);
        await using var table = await FaultProxy.StartAsync("127.0.0.1", 10002);
        FaultProxy[] proxies = [postgres, blob, queue, table];

        var storage = $"DefaultEndpointsProtocol=http;AccountName=devstoreaccount1;AccountKey={DevelopmentAccountKey};" +
            $"BlobEndpoint=http://127.0.0.1:{blob.Port}/devstoreaccount1;QueueEndpoint=http://127.0.0.1:{queue.Port}/devstoreaccount1;TableEndpoint=http://127.0.0.1:{table.Port}/devstoreaccount1;";
        FaultProxy? llm = null;
        await using var drill = await DrillWorkload.StartAsync(
            cluster.Direct(database),
            serverPostgres: postgres.ForNpgsql(cluster.Direct(database)),
            serverLlm: url =>
            {
                llm = FaultProxy.StartAsync(new Uri(url)).GetAwaiter().GetResult();
                return llm.ForUrl(url);
            },
            settings: new Dictionary<string, string?> { ["Durable__StorageConnectionString"] = storage });
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
