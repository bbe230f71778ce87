namespace Orchestrator.Core.Workflows;

/// <summary>
/// What a step produced. <see cref="Reused"/>: no call was made because a completed result existed;
/// <see cref="ReusedFrom"/> names the earlier run it came from (null when this run paid for it).
/// </summary>
public sealed record StepResult(string Output, int TokensIn, int TokensOut, decimal CostUsd, string? Provider, bool Reused, string? ReusedFrom = null);
