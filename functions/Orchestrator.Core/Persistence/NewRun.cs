namespace Orchestrator.Core.Persistence;

/// <summary>What is stored when a run is accepted, before its orchestration is scheduled (in <paramref name="TaskHub"/>).</summary>
public sealed record NewRun(
    string Id,
    string DefinitionName,
    int DefinitionVersion,
    string DefinitionJson,
    string InputJson,
    string? RetryOf,
    string? IdempotencyKey,
    string? TaskHub = null);
