namespace Orchestrator.Core.Resilience;

/// <summary>A dependency (PostgreSQL) stayed unreachable for the whole retry window of one activity; the orchestration retries it.</summary>
public sealed class DependencyUnavailableException(string message, Exception? inner = null) : Exception(message, inner);
