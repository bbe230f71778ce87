namespace Orchestrator.Core.Persistence;

/// <summary>A run PostgreSQL still shows as Pending or Running, with what it takes to start its orchestration again.</summary>
public sealed record UnfinishedRun(string Id, string Status, string DefinitionJson, string InputJson, string? RetryOf);
