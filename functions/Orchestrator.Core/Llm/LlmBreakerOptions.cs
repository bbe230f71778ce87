using System.ComponentModel.DataAnnotations;
using Orchestrator.Core.Llm.Breakers;

namespace Orchestrator.Core.Llm;

/// <summary>One provider's circuit breaker (<c>Llm:Providers:NAME:Breaker:*</c>); a value left empty is the top-level <c>Llm:Breaker*</c> one.</summary>
public sealed class LlmBreakerOptions
{
    [Range(0.01, 1.0)]
    public double? FailureRatio { get; set; }

    [Range(2, 10_000)]
    public int? MinimumThroughput { get; set; }

    [Range(typeof(TimeSpan), "00:00:01", "01:00:00")]
    public TimeSpan? SamplingDuration { get; set; }

    [Range(typeof(TimeSpan), "00:00:01", "01:00:00")]
    public TimeSpan? BreakDuration { get; set; }

    internal CircuitBreakerSettings Over(LlmOptions top) => new()
    {
        FailureRatio = FailureRatio ?? top.BreakerFailureRatio,
        MinimumThroughput = MinimumThroughput ?? top.BreakerMinimumThroughput,
        SamplingDuration = SamplingDuration ?? top.BreakerSamplingDuration,
        BreakDuration = BreakDuration ?? top.BreakerDuration,
    };
}
