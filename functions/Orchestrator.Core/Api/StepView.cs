using System.Text.Json.Nodes;
using Orchestrator.Core.Definitions;
using Orchestrator.Core.Persistence;

namespace Orchestrator.Core.Api;

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
