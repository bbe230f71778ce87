namespace Orchestrator.Server.Tests.Infrastructure;

/// <summary>Rows in <c>workflow_states</c> and <c>workflow_steps</c>, and instances in the task hub.</summary>
public sealed record StoredCounts(long Runs, long Steps, int Instances, long AdminRows = 0);
