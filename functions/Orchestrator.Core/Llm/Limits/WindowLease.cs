using System.Threading.RateLimiting;

namespace Orchestrator.Core.Llm.Limits;

/// <summary>
/// Permits granted from a sliding window: where they were counted (a bucket in PostgreSQL, or this instance's
/// fallback window), so <see cref="ClusterRateLimiter.SettleAsync"/> can correct them to what the call really used.
/// </summary>
internal sealed class WindowLease(long? bucket, int permits) : RateLimitLease
{
    private readonly Lock gate = new();

    /// <summary>The bucket's start on the database clock; null when counted by the local fallback.</summary>
    public long? Bucket => bucket;

    public int Permits { get; private set; } = permits;

    public override bool IsAcquired => true;

    public override IEnumerable<string> MetadataNames => [];

    public override bool TryGetMetadata(string metadataName, out object? metadata)
    {
        metadata = null;
        return false;
    }

    /// <summary>Records <paramref name="actual"/> as the lease's permits and says by how much the count must change.</summary>
    public int Settle(int actual)
    {
        lock (gate)
        {
            var delta = actual - Permits;
            Permits = actual;
            return delta;
        }
    }
}
