using System.Text.Json.Nodes;
using System.Text.Json.Serialization;

namespace Orchestrator.Core.Definitions;

/// <summary>Waits (durably, at no cost) for a human decision sent as an external event.</summary>
public sealed record ApprovalStepDefinition : StepDefinition
{
    /// <summary>Event name the decision arrives under (<c>POST /api/v1/workflows/{id}/events/{event}</c>); default: the step id.</summary>
    public string? Event { get; init; }

    /// <summary>What the approver is asked (a template), shown in the run's status while it waits.</summary>
    public string? Message { get; init; }

    /// <summary><c>fail</c> (default), <c>continue</c> (output null), or any other JSON value used as the decision.</summary>
    public JsonNode? OnTimeout { get; init; }

    /// <summary><c>fail</c> (default) or <c>continue</c> when the decision has <c>"approved": false</c>.</summary>
    public string OnReject { get; init; } = "fail";

    [JsonIgnore]
    public override string Type => StepTypes.Approval;

    [JsonIgnore]
    public string EventName => string.IsNullOrEmpty(Event) ? Id : Event;
}
