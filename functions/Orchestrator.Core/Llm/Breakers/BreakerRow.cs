using Polly.CircuitBreaker;

namespace Orchestrator.Core.Llm.Breakers;

/// <summary>
/// One breaker's shared state as read, with the database clock at the read and the sample sums of its epoch over the
/// sampling window (zero when the read was not a sync).
/// </summary>
internal sealed record BreakerRow(
    string Name,
    CircuitState State,
    long Epoch,
    DateTimeOffset? OpenUntil,
    string? ProbeHolder,
    DateTimeOffset? ProbeExpiresAt,
    long ResetGeneration,
    long Version,
    DateTimeOffset DatabaseNow,
    long Successes = 0,
    long Failures = 0);
