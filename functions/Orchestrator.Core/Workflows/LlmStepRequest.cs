namespace Orchestrator.Core.Workflows;

/// <summary>
/// Input of the activity that runs one LLM step: the prompt is already rendered by the orchestrator. The budget
/// limits are the run's (<c>budget</c> of its definition): the activity reserves the call's maximum against them.
/// <see cref="Route"/> is the step's provider chain (<see cref="Provider"/> is the single provider of inputs written before chains).
/// </summary>
public sealed record LlmStepRequest(
    string RunId,
    string StepId,
    int Iteration,
    string Prompt,
    string? System,
    string? Model,
    int? MaxTokens,
    double? Temperature,
    string? OutputSchemaJson = null,
    int? MaxRepairs = null,
    string? Provider = null,
    string? RestoreEpoch = null,
    long? BudgetMaxTokens = null,
    decimal? BudgetMaxCostUsd = null,
    IReadOnlyList<Definitions.ProviderChoice>? Route = null);
