using Microsoft.DurableTask;
using Microsoft.DurableTask.Client;
using Moq;

namespace Orchestrator.Core.Tests.Fakes;

/// <summary>A mocked <see cref="DurableTaskClient"/> that records scheduled and terminated instances.</summary>
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
    }

    public bool FailScheduling { get; set; }

    public List<(string Name, object? Input, string? InstanceId)> Scheduled { get; } = [];

    public List<string> Terminated { get; } = [];

    public DurableTaskClient Object => mock.Object;
}
