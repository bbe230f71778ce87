namespace Orchestrator.Core.Workflows;

/// <summary>Ends an orchestration as Failed with the reason recorded in <c>workflow_states.error</c>.</summary>
public sealed class WorkflowFailedException : Exception
{
    public WorkflowFailedException(string message) : base(message) { }

    public WorkflowFailedException() { }

    public WorkflowFailedException(string message, Exception inner) : base(message, inner) { }
}
