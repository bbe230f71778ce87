namespace Orchestrator.Core.Workflows;

/// <summary>What a step produced; <see cref="Reused"/> is true when no call was made because a completed result existed.</summary>
public sealed record StepResult(string Output, int TokensIn, int TokensOut, decimal CostUsd, string? Provider, bool Reused);
