namespace Orchestrator.Core.Workflows;

/// <summary>A step was asked to run for a run that is cancelled or finished: nothing is spent on it.</summary>
public sealed class RunNotActiveException : Exception
{
    public RunNotActiveException(string message) : base(message) { }

    public RunNotActiveException() { }

    public RunNotActiveException(string message, Exception inner) : base(message, inner) { }
}
