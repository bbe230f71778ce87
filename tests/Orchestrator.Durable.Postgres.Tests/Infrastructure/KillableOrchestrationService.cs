using DurableTask.Core;

namespace Orchestrator.Durable.Postgres.Tests.Infrastructure;

/// <summary>
/// A worker that can be killed in-process: after <see cref="Kill"/> nothing it does reaches the store any more (no
/// completion, no abandon, no lock renewal, no new work), as when its process dies mid-step. Its locks are left for
/// the store to expire or for a successor to release. Stopping it stops the provider's own background loops.
/// </summary>
internal sealed class KillableOrchestrationService(IOrchestrationService inner) : DelegatingOrchestrationService(inner)
{
    private readonly TaskCompletionSource death = new(TaskCreationOptions.RunContinuationsAsynchronously);

    /// <summary>When set, the worker dies at its first attempt to save an episode: the episode ran, but nothing of it was stored.</summary>
    public bool DieBeforeSavingAnEpisode { get; init; }

    /// <summary>Completes when the worker is killed (by <see cref="Kill"/> or at its first episode save).</summary>
    public Task Killed => death.Task;

    private bool IsKilled => death.Task.IsCompleted;

    public void Kill() => death.TrySetResult();

    // A look for work already under way when the worker is killed can still lock something afterwards, which a dead
    // process never could (and a successor may already have released its predecessor's locks): what such a look
    // brings back is given back at once, as if the process had died before its lock reached the store.
    public override async Task<TaskOrchestrationWorkItem> LockNextTaskOrchestrationWorkItemAsync(TimeSpan receiveTimeout, CancellationToken cancellationToken)
    {
        if (IsKilled)
        {
            return await NothingAsync<TaskOrchestrationWorkItem>(receiveTimeout, cancellationToken);
        }

        var workItem = await base.LockNextTaskOrchestrationWorkItemAsync(receiveTimeout, cancellationToken);
        if (workItem is not null && IsKilled)
        {
            await Inner.ReleaseTaskOrchestrationWorkItemAsync(workItem);
            return null!;
        }

        return workItem!;
    }

    public override async Task<TaskActivityWorkItem> LockNextTaskActivityWorkItem(TimeSpan receiveTimeout, CancellationToken cancellationToken)
    {
        if (IsKilled)
        {
            return await NothingAsync<TaskActivityWorkItem>(receiveTimeout, cancellationToken);
        }

        var workItem = await base.LockNextTaskActivityWorkItem(receiveTimeout, cancellationToken);
        if (workItem is not null && IsKilled)
        {
            await Inner.AbandonTaskActivityWorkItemAsync(workItem);
            return null!;
        }

        return workItem!;
    }

    public override Task RenewTaskOrchestrationWorkItemLockAsync(TaskOrchestrationWorkItem workItem) =>
        Alive(() => base.RenewTaskOrchestrationWorkItemLockAsync(workItem));

    public override Task CompleteTaskOrchestrationWorkItemAsync(
        TaskOrchestrationWorkItem workItem,
        OrchestrationRuntimeState newOrchestrationRuntimeState,
        IList<TaskMessage> outboundMessages,
        IList<TaskMessage> orchestratorMessages,
        IList<TaskMessage> timerMessages,
        TaskMessage continuedAsNewMessage,
        OrchestrationState orchestrationState)
    {
        if (DieBeforeSavingAnEpisode)
        {
            Kill();
        }

        return Alive(() => base.CompleteTaskOrchestrationWorkItemAsync(
            workItem, newOrchestrationRuntimeState, outboundMessages, orchestratorMessages, timerMessages, continuedAsNewMessage, orchestrationState));
    }

    public override Task AbandonTaskOrchestrationWorkItemAsync(TaskOrchestrationWorkItem workItem) =>
        Alive(() => base.AbandonTaskOrchestrationWorkItemAsync(workItem));

    public override Task ReleaseTaskOrchestrationWorkItemAsync(TaskOrchestrationWorkItem workItem) =>
        Alive(() => base.ReleaseTaskOrchestrationWorkItemAsync(workItem));

    public override Task<TaskActivityWorkItem> RenewTaskActivityWorkItemLockAsync(TaskActivityWorkItem workItem) =>
        IsKilled ? Task.FromException<TaskActivityWorkItem>(Dead()) : base.RenewTaskActivityWorkItemLockAsync(workItem);

    public override Task CompleteTaskActivityWorkItemAsync(TaskActivityWorkItem workItem, TaskMessage responseMessage) =>
        Alive(() => base.CompleteTaskActivityWorkItemAsync(workItem, responseMessage));

    public override Task AbandonTaskActivityWorkItemAsync(TaskActivityWorkItem workItem) =>
        Alive(() => base.AbandonTaskActivityWorkItemAsync(workItem));

    private Task Alive(Func<Task> call) => IsKilled ? Task.FromException(Dead()) : call();

    private static InvalidOperationException Dead() => new("This worker was killed; nothing it does reaches the store.");

    private static async Task<T> NothingAsync<T>(TimeSpan receiveTimeout, CancellationToken cancellationToken)
        where T : class
    {
        try
        {
            await Task.Delay(receiveTimeout, cancellationToken);
        }
        catch (OperationCanceledException)
        {
        }

        return null!;
    }
}
