namespace Orchestrator.Core.Persistence;

/// <summary>What is stored when a run is accepted, before its orchestration is scheduled.</summary>
public sealed record NewRun(
    string Id,
    string DefinitionName,
    int DefinitionVersion,
    string DefinitionJson,
    string InputJson,
    string? RetryOf,
    string? IdempotencyKey);
