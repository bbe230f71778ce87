using System.Collections.Concurrent;

namespace Orchestrator.Durable.Postgres;

/// <summary>
/// The work items of one kind this process holds: those handed to the worker and not yet ended, and those locked in
/// the same round trip as another and kept here until the worker asks. A round trip locks only as many as the worker
/// has room for, so nothing waits here long enough for its lock to expire.
/// </summary>
internal sealed class LockedWork<T>(int capacity, int maxBatch)
    where T : class
{
    private readonly ConcurrentQueue<T> waiting = new();
    private readonly ConcurrentDictionary<T, byte> held = new(ReferenceEqualityComparer.Instance);

    /// <summary>How many to lock in the next round trip: the worker's free room, at most <c>maxBatch</c>, at least one.</summary>
    public int BatchSize => Math.Clamp(capacity - held.Count, 1, maxBatch);

    public bool TryTake(out T? item) => waiting.TryDequeue(out item);

    /// <summary>Records items just locked; the first is handed out, the rest wait here.</summary>
    public T? Add(IReadOnlyList<T> items)
    {
        foreach (var item in items)
        {
            held.TryAdd(item, 0);
        }

        for (var i = 1; i < items.Count; i++)
        {
            waiting.Enqueue(items[i]);
        }

        return items.Count > 0 ? items[0] : null;
    }

    /// <summary>The item was completed, abandoned or released (any of them, any number of times).</summary>
    public void End(T item) => held.TryRemove(item, out _);

    /// <summary>Everything still waiting (at stop, to be given back).</summary>
    public List<T> Drain()
    {
        var items = new List<T>();
        while (waiting.TryDequeue(out var item))
        {
            items.Add(item);
        }

        return items;
    }
}
