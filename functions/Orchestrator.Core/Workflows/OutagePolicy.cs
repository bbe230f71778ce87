using Orchestrator.Core.Resilience;

namespace Orchestrator.Core.Workflows;

/// <summary>How long a run keeps retrying through a dependency outage, and the longest pause between attempts.</summary>
public sealed record OutagePolicy(TimeSpan Window, TimeSpan MaxInterval)
{
    public static OutagePolicy Default { get; } = From(new ResilienceOptions());

    public static OutagePolicy From(ResilienceOptions options) => new(options.OutageWindow, options.OutageRetryMaxInterval);
}
