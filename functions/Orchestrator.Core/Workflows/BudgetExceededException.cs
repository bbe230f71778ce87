namespace Orchestrator.Core.Workflows;

/// <summary>
/// The run's budget cannot fit a step's call (what the run spent and its other calls reserved, plus the most this
/// call may spend, exceeds a limit): the step fails at once, without a call and without a retry.
/// </summary>
public sealed class BudgetExceededException : Exception
{
    public BudgetExceededException(string message) : base(message) { }

    public BudgetExceededException() { }

    public BudgetExceededException(string message, Exception inner) : base(message, inner) { }
}
