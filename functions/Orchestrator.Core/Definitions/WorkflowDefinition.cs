using System.Text.Json.Nodes;

namespace Orchestrator.Core.Definitions;

/// <summary>A workflow described as data: its input contract, defaults, budget and ordered steps.</summary>
public sealed record WorkflowDefinition
{
    public required string Name { get; init; }

    public int Version { get; init; } = 1;

    public string? Description { get; init; }

    /// <summary>JSON Schema the start request's <c>input</c> must satisfy.</summary>
    public JsonObject? Input { get; init; }

    public StepDefaults? Defaults { get; init; }

    /// <summary>Wall-clock limit for the whole run (a durable timer races the steps).</summary>
    public string? Timeout { get; init; }

    public BudgetDefinition? Budget { get; init; }

    public required IReadOnlyList<StepDefinition> Steps { get; init; }

    /// <summary>Template (or JSON with templates in its strings) for the run's output; default: the last step's output.</summary>
    public JsonNode? Output { get; init; }

    [System.Text.Json.Serialization.JsonIgnore]
    public string Key => $"{Name}@{Version}";
}
