using System.ComponentModel.DataAnnotations;

namespace Orchestrator.Core.Llm;

/// <summary>
/// Fault injection (Polly's chaos strategies) for drills: off unless a rate is above zero, and reported in
/// <c>/health</c> while on. Faults are injected before the provider is called, so they cost nothing.
/// </summary>
public sealed class LlmChaosOptions
{
    /// <summary>Share of calls (0–1) that fail as if the provider were unreachable.</summary>
    [Range(0.0, 1.0)]
    public double FaultRate { get; set; }

    /// <summary>Share of calls (0–1) delayed by <see cref="Latency"/> before they go out.</summary>
    [Range(0.0, 1.0)]
    public double LatencyRate { get; set; }

    [Range(typeof(TimeSpan), "00:00:00", "00:10:00")]
    public TimeSpan Latency { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>Share of calls (0–1) answered with HTTP <see cref="OutcomeStatus"/> instead of the provider's reply.</summary>
    [Range(0.0, 1.0)]
    public double OutcomeRate { get; set; }

    [Range(400, 599)]
    public int OutcomeStatus { get; set; } = 503;

    public bool Enabled => FaultRate > 0 || LatencyRate > 0 || OutcomeRate > 0;
}
