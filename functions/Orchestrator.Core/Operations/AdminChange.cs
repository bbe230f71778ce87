namespace Orchestrator.Core.Operations;

/// <summary>The outcome of an admin action: the state after it and whether it changed anything.</summary>
public sealed record AdminChange<T>(T State, bool Changed);
