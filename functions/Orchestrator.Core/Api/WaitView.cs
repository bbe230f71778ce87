using System.Text.Json.Nodes;
using Orchestrator.Core.Persistence;

namespace Orchestrator.Core.Api;

/// <summary>An approval the run is waiting for: the event that decides it, what the approver is asked, and when it times out.</summary>
public sealed record WaitView(string Step, string Event, string? Message, DateTimeOffset? Since, DateTimeOffset? TimeoutAt)
{
    public static WaitView From(WorkflowStepRecord s)
    {
        string? message = null;
        if (s.Output is not null && JsonNode.Parse(s.Output) is JsonObject details && details["message"] is JsonValue text)
        {
            message = text.GetValue<string>();
        }

        return new WaitView(s.StepId, s.WaitEvent ?? s.StepId, message, s.StartedAt, s.WaitUntil);
    }
}
