namespace Orchestrator.Core.Definitions;

/// <summary>Upper bounds on what one run may spend.</summary>
public sealed record BudgetDefinition
{
    public long? MaxTokens { get; init; }

    public decimal? MaxCostUsd { get; init; }
}
