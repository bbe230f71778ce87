namespace Orchestrator.Core.Workflows;

/// <summary>A step ended the run (failed call, rejected approval, timeout, budget, template error); raised and handled inside the orchestrator.</summary>
public sealed class StepFailedException : Exception
{
    public StepFailedException(string stepId, string reason) : base($"step '{stepId}' failed: {reason}") { }

    public StepFailedException() { }

    public StepFailedException(string message) : base(message) { }

    public StepFailedException(string message, Exception inner) : base(message, inner) { }
}
