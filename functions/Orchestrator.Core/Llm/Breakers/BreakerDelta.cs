namespace Orchestrator.Core.Llm.Breakers;

/// <summary>Outcomes counted here since the last sync, for the epoch they were counted in (-1: not known yet).</summary>
internal sealed record BreakerDelta(string Name, long Epoch, long Successes, long Failures, TimeSpan SamplingDuration);
