using System.ComponentModel.DataAnnotations;

namespace Orchestrator.Core.Llm.Breakers;

/// <summary>
/// When one breaker opens and for how long, with the semantics of Polly's advanced circuit breaker, but counted over
/// every instance: it opens when at least <see cref="MinimumThroughput"/> calls in the last
/// <see cref="SamplingDuration"/> were made and at least <see cref="FailureRatio"/> of them failed.
/// </summary>
public sealed class CircuitBreakerSettings
{
    [Range(0.01, 1.0)]
    public double FailureRatio { get; set; } = 0.5;

    [Range(2, 10_000)]
    public int MinimumThroughput { get; set; } = 10;

    [Range(typeof(TimeSpan), "00:00:01", "01:00:00")]
    public TimeSpan SamplingDuration { get; set; } = TimeSpan.FromSeconds(60);

    /// <summary>How long it stays open before one probe call (in the whole cluster) may test the provider.</summary>
    [Range(typeof(TimeSpan), "00:00:01", "01:00:00")]
    public TimeSpan BreakDuration { get; set; } = TimeSpan.FromSeconds(30);
}
