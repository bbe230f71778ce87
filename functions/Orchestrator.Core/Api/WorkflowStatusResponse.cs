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
    IReadOnlyList<StepView> Steps)
{
    public static WorkflowStatusResponse From(WorkflowRunRecord run, IReadOnlyList<WorkflowStepRecord> steps, IReadOnlyList<string> retries)
    {
        var total = DefinitionJson.Deserialize(run.DefinitionJson).Steps.Count;
        var finished = steps.Count(s => s.Iteration == 0 && s.Status is Workflows.StepStatus.Completed or Workflows.StepStatus.Skipped);
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
            steps.Select(StepView.From).ToList());
    }
}

/// <summary>How many of the definition's steps have finished.</summary>
public sealed record ProgressView(int Completed, int Total);

/// <summary>Tokens spent by the run's own calls (reused steps are not counted again).</summary>
public sealed record TokensView(long Input, long Output);

/// <summary>One step execution as the API shows it.</summary>
public sealed record StepView(
    string Id,
    int Iteration,
    string Type,
    string Status,
    int Attempt,
    string? Output,
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
        s.StepId, s.Iteration, s.StepType, s.Status, s.Attempt, s.Output, s.Provider, s.Model,
        new TokensView(s.TokensIn, s.TokensOut), s.CostUsd, s.LatencyMs, s.StartedAt, s.CompletedAt, s.Error, s.ReusedFrom);
}
