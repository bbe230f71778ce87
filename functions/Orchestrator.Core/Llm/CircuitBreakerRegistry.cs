using System.Collections.Concurrent;
using Polly.CircuitBreaker;

namespace Orchestrator.Core.Llm;

/// <summary>
/// The LLM circuit breakers of this process by name, with their state (for <c>/metrics</c> and <c>/health</c>) and
/// a manual close (for <c>/admin/circuit-breaker/reset</c>, applied on every instance through PostgreSQL).
/// </summary>
public sealed class CircuitBreakerRegistry
{
    private readonly ConcurrentDictionary<string, Entry> breakers = new(StringComparer.Ordinal);

    /// <summary>Adds a breaker; returns the manual control to pass to Polly's <see cref="CircuitBreakerStrategyOptions"/>.</summary>
    public (CircuitBreakerStateProvider State, CircuitBreakerManualControl Control) Register(string name)
    {
        var entry = breakers.GetOrAdd(name, _ => new Entry(new CircuitBreakerStateProvider(), new CircuitBreakerManualControl()));
        return (entry.State, entry.Control);
    }

    public IEnumerable<string> Names => breakers.Keys.Order(StringComparer.Ordinal);

    public bool Contains(string name) => breakers.ContainsKey(name);

    /// <summary>Every breaker's state: 0 closed, 1 open (or isolated), 2 half-open — the metric's encoding.</summary>
    public IReadOnlyList<(string Name, CircuitState State)> States() =>
        breakers.OrderBy(b => b.Key, StringComparer.Ordinal).Select(b => (b.Key, StateOf(b.Value))).ToList();

    public static int MetricValue(CircuitState state) => state switch
    {
        CircuitState.Closed => 0,
        CircuitState.HalfOpen => 2,
        _ => 1,
    };

    /// <summary>Closes the breaker (a no-op when it is closed); false when there is no such breaker here.</summary>
    public async Task<bool> CloseAsync(string name, CancellationToken cancellationToken)
    {
        if (!breakers.TryGetValue(name, out var entry))
        {
            return false;
        }

        await entry.Control.CloseAsync(cancellationToken);
        return true;
    }

    private static CircuitState StateOf(Entry entry)
    {
        // A breaker whose pipeline is not built yet has no state (Polly throws): it is closed.
        try
        {
            return entry.State.CircuitState;
        }
        catch (InvalidOperationException)
        {
            return CircuitState.Closed;
        }
    }

    private sealed record Entry(CircuitBreakerStateProvider State, CircuitBreakerManualControl Control);
}
