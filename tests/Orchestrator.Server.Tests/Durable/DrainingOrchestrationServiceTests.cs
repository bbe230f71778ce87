using DurableTask.Core;
using Moq;
using Orchestrator.Server.Durable;

namespace Orchestrator.Server.Tests.Durable;

/// <summary>The worker's view of the task hub during a graceful stop: what it may still take, and when it is idle.</summary>
public sealed class DrainingOrchestrationServiceTests
{
    private static readonly TimeSpan Receive = TimeSpan.FromMilliseconds(50);
    private readonly Mock<IOrchestrationService> inner = new();
    private readonly DrainingOrchestrationService service;

    public DrainingOrchestrationServiceTests() => service = new DrainingOrchestrationService(inner.Object);

    [Fact]
    public async Task An_activity_counts_from_its_lock_until_it_is_completed()
    {
        var item = Next(new TaskActivityWorkItem { Id = "a1" });

        Assert.Same(item, await service.LockNextTaskActivityWorkItem(Receive, CancellationToken.None));
        Assert.Equal(1, service.ActivitiesInFlight);

        await service.CompleteTaskActivityWorkItemAsync(item, new TaskMessage());
        Assert.Equal(0, service.ActivitiesInFlight);
        Assert.True(await service.WaitForIdleAsync(TimeSpan.FromSeconds(1), CancellationToken.None));
    }

    [Fact]
    public async Task An_activity_whose_completion_failed_and_was_then_abandoned_is_counted_out_once()
    {
        var failing = Next(new TaskActivityWorkItem { Id = "a1" });
        await service.LockNextTaskActivityWorkItem(Receive, CancellationToken.None);
        var other = Next(new TaskActivityWorkItem { Id = "a2" });
        await service.LockNextTaskActivityWorkItem(Receive, CancellationToken.None);
        inner.Setup(s => s.CompleteTaskActivityWorkItemAsync(failing, It.IsAny<TaskMessage>())).ThrowsAsync(new InvalidOperationException("storage unavailable"));

        // What the dispatcher does: the completion throws, so it abandons the same work item.
        await Assert.ThrowsAsync<InvalidOperationException>(() => service.CompleteTaskActivityWorkItemAsync(failing, new TaskMessage()));
        await service.AbandonTaskActivityWorkItemAsync(failing);

        Assert.Equal(1, service.ActivitiesInFlight);
        service.BeginDrain();
        Assert.False(await service.WaitForIdleAsync(TimeSpan.FromMilliseconds(300), CancellationToken.None), "the drain ended with a2 still running");
        await service.CompleteTaskActivityWorkItemAsync(other, new TaskMessage());
        Assert.True(await service.WaitForIdleAsync(TimeSpan.FromSeconds(1), CancellationToken.None));
    }

    [Fact]
    public async Task While_draining_no_work_is_fetched_and_what_a_fetch_under_way_brings_goes_back_to_the_queue()
    {
        service.BeginDrain();
        Assert.Null(await service.LockNextTaskActivityWorkItem(Receive, CancellationToken.None));
        Assert.Null(await service.LockNextTaskOrchestrationWorkItemAsync(Receive, CancellationToken.None));
        inner.Verify(s => s.LockNextTaskActivityWorkItem(It.IsAny<TimeSpan>(), It.IsAny<CancellationToken>()), Times.Never);
        inner.Verify(s => s.LockNextTaskOrchestrationWorkItemAsync(It.IsAny<TimeSpan>(), It.IsAny<CancellationToken>()), Times.Never);

        // A fetch that began before the drain and returns after it.
        var late = new DrainingOrchestrationService(inner.Object);
        var gate = new TaskCompletionSource<TaskActivityWorkItem>();
        var item = new TaskActivityWorkItem { Id = "late" };
        inner.Setup(s => s.LockNextTaskActivityWorkItem(It.IsAny<TimeSpan>(), It.IsAny<CancellationToken>())).Returns(gate.Task);
        var fetch = late.LockNextTaskActivityWorkItem(Receive, CancellationToken.None);
        late.BeginDrain();
        gate.SetResult(item);

        Assert.Null(await fetch);
        inner.Verify(s => s.AbandonTaskActivityWorkItemAsync(item), Times.Once);
        Assert.Equal(0, late.ActivitiesInFlight);
    }

    [Fact]
    public async Task An_orchestration_episode_counts_until_the_dispatcher_releases_it()
    {
        var item = new TaskOrchestrationWorkItem { InstanceId = "o1" };
        inner.Setup(s => s.LockNextTaskOrchestrationWorkItemAsync(It.IsAny<TimeSpan>(), It.IsAny<CancellationToken>())).ReturnsAsync(item);

        await service.LockNextTaskOrchestrationWorkItemAsync(Receive, CancellationToken.None);
        await service.AbandonTaskOrchestrationWorkItemAsync(item);
        Assert.Equal(1, service.OrchestrationsInFlight);

        await service.ReleaseTaskOrchestrationWorkItemAsync(item);
        Assert.Equal(0, service.OrchestrationsInFlight);
    }

    private TaskActivityWorkItem Next(TaskActivityWorkItem item)
    {
        inner.Setup(s => s.LockNextTaskActivityWorkItem(It.IsAny<TimeSpan>(), It.IsAny<CancellationToken>())).ReturnsAsync(item);
        return item;
    }
}
