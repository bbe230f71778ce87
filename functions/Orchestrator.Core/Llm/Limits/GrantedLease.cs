using System.Threading.RateLimiting;

namespace Orchestrator.Core.Llm.Limits;

/// <summary>A granted lease that holds nothing to give back (zero permits, or permits of a window, which only time returns).</summary>
internal sealed class GrantedLease : RateLimitLease
{
    public static readonly GrantedLease Empty = new();

    public override bool IsAcquired => true;

    public override IEnumerable<string> MetadataNames => [];

    public override bool TryGetMetadata(string metadataName, out object? metadata)
    {
        metadata = null;
        return false;
    }
}
