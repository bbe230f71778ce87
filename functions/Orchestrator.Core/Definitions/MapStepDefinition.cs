using System.Text.Json.Serialization;

namespace Orchestrator.Core.Definitions;

/// <summary>Fans out over a list: runs a nested step (or steps) per item, at most <see cref="MaxParallel"/> at once, and fans in to an array in input order.</summary>
public sealed record MapStepDefinition : StepDefinition
{
    private readonly StepDefinition? step;

    /// <summary>Liquid expression for the list, e.g. <c>input.documents</c>.</summary>
    public required string Items { get; init; }

    public int MaxParallel { get; init; } = 4;

    /// <summary><c>fail</c> (default): the first failed item fails the step; <c>continue</c>: failures are recorded in the result.</summary>
    public string OnItemFailure { get; init; } = MapFailurePolicy.Fail;

    /// <summary>The step each item runs (alternative to <see cref="Steps"/>); without an id it is called <c>item</c>.</summary>
    public StepDefinition? Step
    {
        get => step;
        init => step = value is { Id.Length: 0 } ? value with { Id = "item" } : value;
    }

    /// <summary>Steps each item runs in order; the item's result is the last one's output.</summary>
    public IReadOnlyList<StepDefinition>? Steps { get; init; }

    [JsonIgnore]
    public override string Type => StepTypes.Map;

    /// <summary>The nested steps with their effective ids.</summary>
    [JsonIgnore]
    public IReadOnlyList<StepDefinition> Body =>
        Steps ?? (Step is null ? [] : [Step]);

    /// <summary>How a nested step is recorded in <c>workflow_steps</c>: <c>{map id}.{nested id}</c>, iteration = item index.</summary>
    public string RecordId(StepDefinition nested) => $"{Id}.{nested.Id}";
}
