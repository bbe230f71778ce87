using System.Text.Json.Nodes;
using Orchestrator.Core.Definitions;
using Orchestrator.Core.Persistence;

namespace Orchestrator.Core.Api;

/// <summary>The body of <c>GET /api/v1/workflows/{id}</c>: the run as Postgres records it, step by step.</summary>
public sealed record WorkflowStatusResponse(
    string Id,
    string Definition,
    string Status,
    JsonNode? Input,
    JsonNode? Output,
    string? Error,
    string? RetryOf,
    IReadOnlyList<string> Retries,
    ProgressView Progress,
    TokensView Tokens,
    decimal CostUsd,
    DateTimeOffset CreatedAt,
    DateTimeOffset UpdatedAt,
    DateTimeOffset? LastCheckpoint,
    DateTimeOffset? CompletedAt,
    IReadOnlyList<WaitView> WaitingFor,
    IReadOnlyList<StepView> Steps)
{
    public static WorkflowStatusResponse From(WorkflowRunRecord run, IReadOnlyList<WorkflowStepRecord> steps, IReadOnlyList<string> retries)
    {
        var total = DefinitionJson.Deserialize(run.DefinitionJson).Steps.Count;
        var finished = steps.Count(s => !s.StepId.Contains('.', StringComparison.Ordinal) && Workflows.StepStatus.IsFinished(s.Status));
        return new WorkflowStatusResponse(
            run.Id,
            $"{run.DefinitionName}@{run.DefinitionVersion}",
            run.Status,
            JsonNode.Parse(run.InputJson),
            run.OutputJson is null ? null : JsonNode.Parse(run.OutputJson),
            run.Error,
            run.RetryOf,
            retries,
            new ProgressView(finished, total),
            new TokensView(run.TokensIn, run.TokensOut),
            run.CostUsd,
            run.CreatedAt,
            run.UpdatedAt,
            run.LastCheckpoint,
            run.CompletedAt,
            run.Status is Workflows.RunStatus.Running or Workflows.RunStatus.Pending
                ? steps.Where(s => s.Status == Workflows.StepStatus.Waiting).Select(WaitView.From).ToList()
                : [],
            steps.Select(StepView.From).ToList());
    }
}

/// <summary>How many of the definition's steps have finished.</summary>
public sealed record ProgressView(int Completed, int Total);

/// <summary>Tokens spent by the run's own calls (reused steps are not counted again).</summary>
public sealed record TokensView(long Input, long Output);

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

/// <summary>One step execution as the API shows it (LLM text as a string, other outputs as JSON).</summary>
public sealed record StepView(
    string Id,
    int Iteration,
    string Type,
    string Status,
    int Attempt,
    JsonNode? Output,
    string? Provider,
    string? Model,
    TokensView Tokens,
    decimal CostUsd,
    int? LatencyMs,
    DateTimeOffset? StartedAt,
    DateTimeOffset? CompletedAt,
    string? Error,
    string? ReusedFrom)
{
    public static StepView From(WorkflowStepRecord s) => new(
        s.StepId, s.Iteration, s.StepType, s.Status, s.Attempt, OutputOf(s), s.Provider, s.Model,
        new TokensView(s.TokensIn, s.TokensOut), s.CostUsd, s.LatencyMs, s.StartedAt, s.CompletedAt, s.Error, s.ReusedFrom);

    private static JsonNode? OutputOf(WorkflowStepRecord s)
    {
        if (s.Output is null)
        {
            return null;
        }

        if (s.StepType != StepTypes.Llm)
        {
            try
            {
                return JsonNode.Parse(s.Output);
            }
            catch (System.Text.Json.JsonException)
            {
            }
        }

        return JsonValue.Create(s.Output);
    }
}
