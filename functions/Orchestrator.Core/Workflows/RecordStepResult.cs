namespace Orchestrator.Core.Workflows;

/// <summary>What the step's row holds after recording; <see cref="AlreadyFinished"/> when an earlier result was kept.</summary>
public sealed record RecordStepResult(string Status, string? OutputJson, bool AlreadyFinished);
