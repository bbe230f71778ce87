using System.Text.Json.Nodes;
using Orchestrator.Core.Definitions;
using Orchestrator.Core.Persistence;

namespace Orchestrator.Core.Api;

/// <summary>
/// One step execution as the API shows it (LLM text as a string, other outputs as JSON), with the provider and model
/// that served it and the providers of its chain skipped before that one (<c>skippedProviders</c>).
/// </summary>
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
    string? ReusedFrom,
    JsonNode? SkippedProviders)
{
    public static StepView From(WorkflowStepRecord s) => new(
        s.StepId, s.Iteration, s.StepType, s.Status, s.Attempt, OutputOf(s), s.Provider, s.Model,
        new TokensView(s.TokensIn, s.TokensOut), s.CostUsd, s.LatencyMs, s.StartedAt, s.CompletedAt, s.Error, s.ReusedFrom,
        s.SkippedProvidersJson is null ? null : JsonNode.Parse(s.SkippedProvidersJson));

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
