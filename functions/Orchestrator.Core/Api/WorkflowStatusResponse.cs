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
    IReadOnlyList<UsageView> Usage,
    DateTimeOffset CreatedAt,
    DateTimeOffset UpdatedAt,
    DateTimeOffset? LastCheckpoint,
    DateTimeOffset? CompletedAt,
    IReadOnlyList<WaitView> WaitingFor,
    IReadOnlyList<StepView> Steps)
{
    public static WorkflowStatusResponse From(WorkflowRunRecord run, IReadOnlyList<WorkflowStepRecord> steps, IReadOnlyList<string> retries)
    {
        var total = JsonNode.Parse(run.DefinitionJson)?["steps"]?.AsArray().Count ?? 0;
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
            UsageView.From(steps),
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
