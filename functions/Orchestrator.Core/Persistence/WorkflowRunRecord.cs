namespace Orchestrator.Core.Persistence;

/// <summary>A row of <c>workflow_states</c>.</summary>
public sealed record WorkflowRunRecord(
    string Id,
    string DefinitionName,
    int DefinitionVersion,
    string DefinitionJson,
    string Status,
    string InputJson,
    string? OutputJson,
    string? Error,
    string? RetryOf,
    string? IdempotencyKey,
    long TokensIn,
    long TokensOut,
    decimal CostUsd,
    DateTimeOffset CreatedAt,
    DateTimeOffset UpdatedAt,
    DateTimeOffset? LastCheckpoint,
    DateTimeOffset? CompletedAt);
