namespace Orchestrator.Core.Definitions;

/// <summary>Settings every step inherits unless it overrides them.</summary>
public sealed record StepDefaults
{
    public ProviderChain? Provider { get; init; }

    public string? Model { get; init; }

    public int? MaxTokens { get; init; }

    public double? Temperature { get; init; }

    public string? Timeout { get; init; }

    public RetryDefinition? Retry { get; init; }
}
