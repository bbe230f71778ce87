namespace Orchestrator.Core.Workflows;

/// <summary>The states of a step in <c>workflow_steps.status</c>.</summary>
public static class StepStatus
{
    public const string Running = "Running";
    public const string Completed = "Completed";
    public const string Failed = "Failed";
    public const string Skipped = "Skipped";
    public const string Waiting = "Waiting";
    public const string TimedOut = "TimedOut";

    public static bool IsFinished(string status) => status is Completed or Skipped or TimedOut;
}
