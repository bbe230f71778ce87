namespace Orchestrator.Server.Tests.Infrastructure;

/// <summary>A Server whose task hub hands a still-running activity out again after <see cref="VisibilityTimeout"/> (the shortest allowed).</summary>
public sealed class ShortVisibilityFixture : ServerFixture
{
    public static readonly TimeSpan VisibilityTimeout = TimeSpan.FromSeconds(5);

    protected override IReadOnlyDictionary<string, string?> Settings => new Dictionary<string, string?>
    {
        ["Durable__VisibilityTimeout"] = VisibilityTimeout.ToString(),
    };
}
