namespace Orchestrator.Core.Workflows;

/// <summary>The states of a run in <c>workflow_states.status</c>.</summary>
public static class RunStatus
{
    public const string Pending = "Pending";
    public const string Running = "Running";
    public const string Completed = "Completed";
    public const string Failed = "Failed";
    public const string Cancelled = "Cancelled";

    /// <summary>Every status, in the order a run moves through them.</summary>
    public static readonly IReadOnlyList<string> All = [Pending, Running, Completed, Failed, Cancelled];

    public static bool IsTerminal(string status) => status is Completed or Failed or Cancelled;
}
