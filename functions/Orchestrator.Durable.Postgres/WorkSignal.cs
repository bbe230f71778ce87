namespace Orchestrator.Durable.Postgres;

/// <summary>Wakes every fetch loop waiting for one kind of work (a pulse, not a counter: waiters look again).</summary>
internal sealed class WorkSignal
{
    private TaskCompletionSource next = new(TaskCreationOptions.RunContinuationsAsynchronously);

    /// <summary>Completes at the next <see cref="Pulse"/>; take it before looking for work, so a pulse meanwhile is not missed.</summary>
    public Task Next => Volatile.Read(ref next).Task;

    public void Pulse() => Interlocked.Exchange(ref next, new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously)).TrySetResult();
}
