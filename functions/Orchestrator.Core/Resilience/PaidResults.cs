using System.Collections.Concurrent;
using Orchestrator.Core.Llm;

namespace Orchestrator.Core.Resilience;

/// <summary>
/// LLM replies that were paid for but not yet recorded (the database was unavailable), kept in this process so that
/// a later attempt of the same step records them instead of buying them again.
/// </summary>
public sealed class PaidResults(TimeProvider time)
{
    /// <summary>Beyond this many unrecorded replies the oldest are dropped (memory stays bounded during a long outage).</summary>
    public const int Capacity = 10_000;

    private static readonly TimeSpan Lifetime = TimeSpan.FromDays(1);
    private readonly ConcurrentDictionary<(string Run, string Step, int Iteration), Entry> entries = new();

    public int Count => entries.Count;

    public void Keep(string runId, string stepId, int iteration, LlmCompletion completion, int latencyMs)
    {
        if (entries.Count >= Capacity && !entries.ContainsKey((runId, stepId, iteration)))
        {
            foreach (var oldest in entries.OrderBy(e => e.Value.KeptAt).Take(entries.Count - Capacity + 1))
            {
                entries.TryRemove(oldest.Key, out _);
            }
        }

        entries[(runId, stepId, iteration)] = new Entry(completion, latencyMs, time.GetUtcNow());
    }

    /// <summary>The reply kept for this step, if any (and not older than a day).</summary>
    public (LlmCompletion Completion, int LatencyMs)? Find(string runId, string stepId, int iteration)
    {
        if (!entries.TryGetValue((runId, stepId, iteration), out var entry))
        {
            return null;
        }

        if (time.GetUtcNow() - entry.KeptAt > Lifetime)
        {
            entries.TryRemove((runId, stepId, iteration), out _);
            return null;
        }

        return (entry.Completion, entry.LatencyMs);
    }

    public void Forget(string runId, string stepId, int iteration) => entries.TryRemove((runId, stepId, iteration), out _);

    private sealed record Entry(LlmCompletion Completion, int LatencyMs, DateTimeOffset KeptAt);
}
