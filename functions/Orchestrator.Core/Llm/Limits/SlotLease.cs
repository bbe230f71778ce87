using System.Threading.RateLimiting;

namespace Orchestrator.Core.Llm.Limits;

/// <summary>Concurrency slots held in PostgreSQL; disposing gives them back.</summary>
internal sealed class SlotLease(ClusterConcurrencyLimiter limiter, Guid id, int[] slots) : RateLimitLease
{
    private int disposed;

    public Guid Id => id;

    public int[] Slots => slots;

    public override bool IsAcquired => true;

    public override IEnumerable<string> MetadataNames => [];

    public override bool TryGetMetadata(string metadataName, out object? metadata)
    {
        metadata = null;
        return false;
    }

    protected override void Dispose(bool disposing)
    {
        if (Interlocked.Exchange(ref disposed, 1) == 0)
        {
            limiter.Release(this);
        }

        base.Dispose(disposing);
    }
}
