namespace Orchestrator.Core.Definitions;

/// <summary>Durable retry policy of a step: attempts and back-off between them.</summary>
public sealed record RetryDefinition
{
    public int MaxAttempts { get; init; } = 3;

    public string FirstInterval { get; init; } = "2s";

    public double Backoff { get; init; } = 2.0;

    public string MaxInterval { get; init; } = "1m";
}
