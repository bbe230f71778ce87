namespace Orchestrator.Core.Llm;

/// <summary>The most one call may spend (estimated input plus the maximum output), reserved against a run's budget before the call.</summary>
public sealed record LlmReservation(long Tokens, decimal CostUsd);
