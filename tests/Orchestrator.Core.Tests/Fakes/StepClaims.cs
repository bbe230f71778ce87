using Orchestrator.Core.Persistence;

namespace Orchestrator.Core.Tests.Fakes;

/// <summary>Claims of an LLM step as one execution (<paramref name="holder"/>) makes them, for tests of the store.</summary>
public static class StepClaims
{
    public const string Holder = "test-instance/process/execution";

    public static StepClaimRequest Request(string runId, string stepId, int iteration = 0, string holder = Holder, string? restoreEpoch = null, TimeSpan? lease = null) =>
        new(runId, stepId, iteration, "llm", holder, lease ?? TimeSpan.FromSeconds(15), restoreEpoch);
}
