namespace Orchestrator.Core.Definitions;

/// <summary>A call to a chat-completions model with a rendered prompt.</summary>
public sealed record LlmStepDefinition : StepDefinition
{
    public required string Prompt { get; init; }

    public string? System { get; init; }

    public ProviderChain? Provider { get; init; }

    public string? Model { get; init; }

    public double? Temperature { get; init; }

    public int? MaxTokens { get; init; }

    /// <summary>Structured output: the reply must be JSON satisfying <see cref="LlmOutputDefinition.Schema"/>.</summary>
    public LlmOutputDefinition? Output { get; init; }

    [System.Text.Json.Serialization.JsonIgnore]
    public override string Type => StepTypes.Llm;
}
