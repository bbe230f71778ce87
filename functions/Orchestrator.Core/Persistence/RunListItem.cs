namespace Orchestrator.Core.Persistence;

/// <summary>One run in the list: status, definition, progress, last checkpoint and error.</summary>
public sealed record RunListItem(
    string Id,
    string DefinitionName,
    int DefinitionVersion,
    string Status,
    string? Error,
    string? RetryOf,
    int StepsFinished,
    int StepsTotal,
    long TokensIn,
    long TokensOut,
    decimal CostUsd,
    DateTimeOffset CreatedAt,
    DateTimeOffset UpdatedAt,
    DateTimeOffset? LastCheckpoint,
    DateTimeOffset? CompletedAt);
