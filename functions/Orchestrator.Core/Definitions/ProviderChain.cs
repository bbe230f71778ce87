using System.Text.Json.Serialization;

namespace Orchestrator.Core.Definitions;

/// <summary>
/// The providers that may serve an LLM step, in order: <c>provider: primary</c>, or a fallback chain
/// <c>provider: [primary, { name: backup, model: gpt-4o-mini }]</c>. The first one whose breaker is closed, that is
/// not rate-limited and that answers serves the step.
/// </summary>
[JsonConverter(typeof(ProviderChainJsonConverter))]
public sealed class ProviderChain(IReadOnlyList<ProviderChoice> choices) : IEquatable<ProviderChain>
{
    public IReadOnlyList<ProviderChoice> Choices { get; } = choices;

    public static ProviderChain Of(string name) => new([new ProviderChoice(name)]);

    public bool Equals(ProviderChain? other) => other is not null && Choices.SequenceEqual(other.Choices);

    public override bool Equals(object? obj) => Equals(obj as ProviderChain);

    public override int GetHashCode() => Choices.Aggregate(0, (hash, choice) => HashCode.Combine(hash, choice));

    public override string ToString() => string.Join(" → ", Choices.Select(c => c.Model is null ? c.Name : $"{c.Name} ({c.Model})"));
}
