using Microsoft.DurableTask;
using Microsoft.DurableTask.Client;
using Microsoft.DurableTask.Converters;
using Moq;

namespace Orchestrator.Core.Tests.Fakes;

/// <summary>
/// A mocked <see cref="DurableTaskClient"/> of the task hub "hub" that records scheduled and terminated instances and
/// purges by filter, and answers status queries from <see cref="Instances"/>.
/// </summary>
public sealed class DurableClientFake
{
    private readonly Mock<DurableTaskClient> mock = new("hub");

    public DurableClientFake()
    {
        mock.Setup(c => c.ScheduleNewOrchestrationInstanceAsync(It.IsAny<TaskName>(), It.IsAny<object?>(), It.IsAny<StartOrchestrationOptions?>(), It.IsAny<CancellationToken>()))
            .Returns((TaskName name, object? input, StartOrchestrationOptions? options, CancellationToken _) =>
            {
                if (FailScheduling)
                {
                    throw new InvalidOperationException("task hub unreachable");
                }

                Scheduled.Add((name.Name, input, options?.InstanceId));
                return Task.FromResult(options?.InstanceId ?? "generated");
            });
        mock.Setup(c => c.TerminateInstanceAsync(It.IsAny<string>(), It.IsAny<TerminateInstanceOptions?>(), It.IsAny<CancellationToken>()))
            .Returns((string id, TerminateInstanceOptions? _, CancellationToken _) =>
            {
                Terminated.Add(id);
                return Task.CompletedTask;
            });
        mock.Setup(c => c.GetInstanceAsync(It.IsAny<string>(), It.IsAny<bool>(), It.IsAny<CancellationToken>()))
            .Returns((string id, bool _, CancellationToken _) =>
            {
                Queried.Add(id);
                return Task.FromResult(Instances.GetValueOrDefault(id));
            });
        mock.Setup(c => c.PurgeAllInstancesAsync(It.IsAny<PurgeInstancesFilter>(), It.IsAny<PurgeInstanceOptions?>(), It.IsAny<CancellationToken>()))
            .Returns((PurgeInstancesFilter filter, PurgeInstanceOptions? _, CancellationToken _) => Purge(filter));
        mock.Setup(c => c.PurgeAllInstancesAsync(It.IsAny<PurgeInstancesFilter>(), It.IsAny<CancellationToken>()))
            .Returns((PurgeInstancesFilter filter, CancellationToken _) => Purge(filter));
    }

    private Task<PurgeResult> Purge(PurgeInstancesFilter filter)
    {
        if (FailPurging)
        {
            throw new InvalidOperationException("task hub unreachable");
        }

        Purges.Add(filter);
        return Task.FromResult(new PurgeResult(PurgedPerCall));
    }

    /// <summary>Every purge by filter asked for, in order.</summary>
    public List<PurgeInstancesFilter> Purges { get; } = [];

    /// <summary>How many instances each purge by filter reports.</summary>
    public int PurgedPerCall { get; set; }

    public bool FailPurging { get; set; }

    /// <summary>Orchestration instances the task hub knows, by instance id; any other id is missing.</summary>
    public Dictionary<string, OrchestrationMetadata> Instances { get; } = [];

    /// <summary>Instance ids whose status was asked for, in order.</summary>
    public List<string> Queried { get; } = [];

    public bool FailScheduling { get; set; }

    public List<(string Name, object? Input, string? InstanceId)> Scheduled { get; } = [];

    public List<string> Terminated { get; } = [];

    public DurableTaskClient Object => mock.Object;

    /// <summary>Adds an instance as the client returns it with inputs and outputs: <paramref name="output"/> serialized.</summary>
    public void AddInstance(string id, OrchestrationRuntimeStatus status, object? output = null, TaskFailureDetails? failure = null) =>
        Instances[id] = new OrchestrationMetadata(Orchestrator.Core.Workflows.WorkflowTaskNames.Orchestrator, id)
        {
            RuntimeStatus = status,
            SerializedOutput = output is null ? null : JsonDataConverter.Default.Serialize(output),
            FailureDetails = failure,
            DataConverter = JsonDataConverter.Default,
        };
}
