using System.Globalization;
using System.Text.Json.Nodes;
using Orchestrator.Server.Durable;
using Orchestrator.Server.Tests.Infrastructure;

namespace Orchestrator.Server.Tests;

/// <summary>
/// The Functions app's task hub (host.json) is tuned like the Server's (DurableServerOptions' defaults), so the crash
/// RTO and the handling of long LLM calls measured on the Server hold on Azure too.
/// </summary>
public sealed class FunctionsHostTuningTests
{
    private static readonly DurableServerOptions Server = new();

    private static JsonNode DurableTask() =>
        JsonNode.Parse(File.ReadAllText(Path.Combine(TestEnvironment.RepositoryRoot, "host.json")))!["extensions"]!["durableTask"]!;

    [Fact]
    public void The_storage_provider_has_the_Servers_partitions_visibility_timeouts_and_polling()
    {
        var provider = DurableTask()["storageProvider"]!;

        Assert.Equal(Server.PartitionCount, provider["partitionCount"]!.GetValue<int>());
        Assert.Equal(Server.VisibilityTimeout, Span(provider["workItemQueueVisibilityTimeout"]));
        Assert.Equal(Server.VisibilityTimeout, Span(provider["controlQueueVisibilityTimeout"]));
        Assert.Equal(Server.MaxQueuePollingInterval, Span(provider["maxQueuePollingInterval"]));
    }

    [Fact]
    public void The_sample_settings_name_the_Servers_task_hub()
    {
        var sample = JsonNode.Parse(File.ReadAllText(Path.Combine(TestEnvironment.RepositoryRoot, "local.settings.sample.json")))!["Values"]!;
        Assert.Equal(Server.TaskHubName, sample["TaskHubName"]!.GetValue<string>());
    }

    private static TimeSpan Span(JsonNode? value) => TimeSpan.Parse(value!.GetValue<string>(), CultureInfo.InvariantCulture);
}
