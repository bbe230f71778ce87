namespace Orchestrator.Core.Workflows;

/// <summary>
/// The orchestration input: the exact definition the run executes (copied at start), the user's input, and how long
/// the run waits out a dependency outage (fixed at start, so every replay decides the same), and the database restore
/// it was started after (<see cref="Persistence.RestoreFence"/>): an orchestration from before a restore writes nothing.
/// </summary>
public sealed record WorkflowRunInput(string RunId, string DefinitionJson, string InputJson, string? RetryOf, OutagePolicy? Outage = null, string? RestoreEpoch = null);
