using System.Collections.Concurrent;
using DurableTask.Core;

namespace Orchestrator.Server.Durable;

/// <summary>
/// The task hub's orchestration service as the worker sees it, with a graceful stop: once <see cref="BeginDrain"/>
/// is called the worker is handed no new work item (one that arrives from a fetch already under way is given back
/// to the queue at once, for another instance), while the work items it already holds run to the end and are
/// recorded through the real service. <see cref="WaitForIdleAsync"/> tells when the last one has been completed or
/// given back. DurableTask.Core's own graceful stop waits only eight seconds, far less than one LLM call.
/// A work item is counted once from its lock to its end, whatever calls end it: the dispatcher abandons an activity
/// whose completion failed, and must not count it out twice.
/// </summary>
public sealed class DrainingOrchestrationService(IOrchestrationService inner) : IOrchestrationService
{
    private static readonly TimeSpan IdlePoll = TimeSpan.FromMilliseconds(100);
    private static readonly TimeSpan DrainingFetchDelay = TimeSpan.FromMilliseconds(500);
    private readonly ConcurrentDictionary<TaskActivityWorkItem, byte> activities = new(ReferenceEqualityComparer.Instance);
    private readonly ConcurrentDictionary<TaskOrchestrationWorkItem, byte> orchestrations = new(ReferenceEqualityComparer.Instance);
    private volatile bool draining;

    /// <summary>Activities (steps) this instance is running now.</summary>
    public int ActivitiesInFlight => activities.Count;

    /// <summary>Orchestration episodes this instance is running now.</summary>
    public int OrchestrationsInFlight => orchestrations.Count;

    /// <summary>Stop handing out work; what is in flight goes on.</summary>
    public void BeginDrain() => draining = true;

    /// <summary>True once nothing is in flight; false if <paramref name="timeout"/> or <paramref name="cancellationToken"/> ends the wait first.</summary>
    public async Task<bool> WaitForIdleAsync(TimeSpan timeout, CancellationToken cancellationToken)
    {
        using var limit = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        limit.CancelAfter(timeout);
        try
        {
            while (ActivitiesInFlight + OrchestrationsInFlight > 0)
            {
                await Task.Delay(IdlePoll, limit.Token);
            }

            return true;
        }
        catch (OperationCanceledException)
        {
            return ActivitiesInFlight + OrchestrationsInFlight == 0;
        }
    }

    public Task<TaskActivityWorkItem> LockNextTaskActivityWorkItem(TimeSpan receiveTimeout, CancellationToken cancellationToken) =>
        LockAsync(activities, () => inner.LockNextTaskActivityWorkItem(receiveTimeout, cancellationToken), inner.AbandonTaskActivityWorkItemAsync, receiveTimeout, cancellationToken);

    public Task CompleteTaskActivityWorkItemAsync(TaskActivityWorkItem workItem, TaskMessage responseMessage) =>
        EndAsync(activities, workItem, () => inner.CompleteTaskActivityWorkItemAsync(workItem, responseMessage));

    public Task AbandonTaskActivityWorkItemAsync(TaskActivityWorkItem workItem) =>
        EndAsync(activities, workItem, () => inner.AbandonTaskActivityWorkItemAsync(workItem));

    public Task<TaskOrchestrationWorkItem> LockNextTaskOrchestrationWorkItemAsync(TimeSpan receiveTimeout, CancellationToken cancellationToken) =>
        LockAsync(orchestrations, () => inner.LockNextTaskOrchestrationWorkItemAsync(receiveTimeout, cancellationToken), GiveBackAsync, receiveTimeout, cancellationToken);

    /// <summary>The dispatcher releases every orchestration work item it processed, completed or abandoned, exactly once.</summary>
    public Task ReleaseTaskOrchestrationWorkItemAsync(TaskOrchestrationWorkItem workItem) =>
        EndAsync(orchestrations, workItem, () => inner.ReleaseTaskOrchestrationWorkItemAsync(workItem));

    private async Task GiveBackAsync(TaskOrchestrationWorkItem workItem)
    {
        await inner.AbandonTaskOrchestrationWorkItemAsync(workItem);
        await inner.ReleaseTaskOrchestrationWorkItemAsync(workItem);
    }

    /// <summary>
    /// A work item from <paramref name="lockNext"/>, counted in <paramref name="inFlight"/>; nothing while draining, and
    /// one that a fetch under way brings once the drain has begun is given back at once.
    /// </summary>
    private async Task<T> LockAsync<T>(
        ConcurrentDictionary<T, byte> inFlight, Func<Task<T>> lockNext, Func<T, Task> giveBack, TimeSpan receiveTimeout, CancellationToken cancellationToken)
        where T : class
    {
        if (draining)
        {
            return await NothingAsync<T>(receiveTimeout, cancellationToken);
        }

        var workItem = await lockNext();
        if (workItem is null)
        {
            return null!;
        }

        // Counted before the second look, so a drain that begins in between waits for it or sees it given back.
        inFlight.TryAdd(workItem, 0);
        if (draining)
        {
            await EndAsync(inFlight, workItem, () => giveBack(workItem));
            return null!;
        }

        return workItem;
    }

    /// <summary>Counts <paramref name="workItem"/> out once <paramref name="operation"/> that ends it has ended, whether or not it succeeded.</summary>
    private static async Task EndAsync<T>(ConcurrentDictionary<T, byte> inFlight, T workItem, Func<Task> operation)
        where T : notnull
    {
        try
        {
            await operation();
        }
        finally
        {
            inFlight.TryRemove(workItem, out _);
        }
    }

    private static async Task<T> NothingAsync<T>(TimeSpan receiveTimeout, CancellationToken cancellationToken)
        where T : class
    {
        try
        {
            await Task.Delay(receiveTimeout < DrainingFetchDelay ? receiveTimeout : DrainingFetchDelay, cancellationToken);
        }
        catch (OperationCanceledException)
        {
        }

        return null!;
    }

    public Task CompleteTaskOrchestrationWorkItemAsync(
        TaskOrchestrationWorkItem workItem,
        OrchestrationRuntimeState newOrchestrationRuntimeState,
        IList<TaskMessage> outboundMessages,
        IList<TaskMessage> orchestratorMessages,
        IList<TaskMessage> timerMessages,
        TaskMessage continuedAsNewMessage,
        OrchestrationState orchestrationState) =>
        inner.CompleteTaskOrchestrationWorkItemAsync(workItem, newOrchestrationRuntimeState, outboundMessages, orchestratorMessages, timerMessages, continuedAsNewMessage, orchestrationState);

    public Task AbandonTaskOrchestrationWorkItemAsync(TaskOrchestrationWorkItem workItem) => inner.AbandonTaskOrchestrationWorkItemAsync(workItem);

    public Task RenewTaskOrchestrationWorkItemLockAsync(TaskOrchestrationWorkItem workItem) => inner.RenewTaskOrchestrationWorkItemLockAsync(workItem);

    public Task<TaskActivityWorkItem> RenewTaskActivityWorkItemLockAsync(TaskActivityWorkItem workItem) => inner.RenewTaskActivityWorkItemLockAsync(workItem);

    public Task StartAsync() => inner.StartAsync();

    public Task StopAsync() => inner.StopAsync();

    public Task StopAsync(bool isForced) => inner.StopAsync(isForced);

    public Task CreateAsync() => inner.CreateAsync();

    public Task CreateAsync(bool recreateInstanceStore) => inner.CreateAsync(recreateInstanceStore);

    public Task CreateIfNotExistsAsync() => inner.CreateIfNotExistsAsync();

    public Task DeleteAsync() => inner.DeleteAsync();

    public Task DeleteAsync(bool deleteInstanceStore) => inner.DeleteAsync(deleteInstanceStore);

    public bool IsMaxMessageCountExceeded(int currentMessageCount, OrchestrationRuntimeState runtimeState) => inner.IsMaxMessageCountExceeded(currentMessageCount, runtimeState);

    public int GetDelayInSecondsAfterOnProcessException(Exception exception) => inner.GetDelayInSecondsAfterOnProcessException(exception);

    public int GetDelayInSecondsAfterOnFetchException(Exception exception) => inner.GetDelayInSecondsAfterOnFetchException(exception);

    public int TaskOrchestrationDispatcherCount => inner.TaskOrchestrationDispatcherCount;

    public int MaxConcurrentTaskOrchestrationWorkItems => inner.MaxConcurrentTaskOrchestrationWorkItems;

    public BehaviorOnContinueAsNew EventBehaviourForContinueAsNew => inner.EventBehaviourForContinueAsNew;

    public int TaskActivityDispatcherCount => inner.TaskActivityDispatcherCount;

    public int MaxConcurrentTaskActivityWorkItems => inner.MaxConcurrentTaskActivityWorkItems;
}
