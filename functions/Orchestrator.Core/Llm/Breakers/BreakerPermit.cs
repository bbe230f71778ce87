namespace Orchestrator.Core.Llm.Breakers;

/// <summary>What a call was let through as: an ordinary call, the cluster's half-open probe, or this instance's own probe.</summary>
internal readonly record struct BreakerPermit(BreakerPermitKind Kind, string? Token)
{
    public static BreakerPermit Call { get; } = new(BreakerPermitKind.Call, null);
}
