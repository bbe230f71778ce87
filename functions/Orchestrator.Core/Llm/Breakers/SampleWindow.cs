namespace Orchestrator.Core.Llm.Breakers;

/// <summary>
/// This instance's own outcomes over the sampling duration, in ten rolling buckets (as Polly's advanced breaker
/// keeps them): what the local breaker decides on while PostgreSQL does not answer.
/// </summary>
internal sealed class SampleWindow(TimeSpan samplingDuration)
{
    private const int Buckets = 10;

    private readonly long width = Math.Max(samplingDuration.Ticks / Buckets, 1);
    private readonly long[] ids = new long[Buckets];
    private readonly long[] successes = new long[Buckets];
    private readonly long[] failures = new long[Buckets];

    public void Add(DateTimeOffset now, bool failed)
    {
        var id = now.UtcTicks / width;
        var slot = (int)(id % Buckets);
        if (ids[slot] != id)
        {
            ids[slot] = id;
            successes[slot] = 0;
            failures[slot] = 0;
        }

        if (failed)
        {
            failures[slot]++;
        }
        else
        {
            successes[slot]++;
        }
    }

    public (long Successes, long Failures) Sum(DateTimeOffset now)
    {
        var current = now.UtcTicks / width;
        long s = 0, f = 0;
        for (var i = 0; i < Buckets; i++)
        {
            if (ids[i] > current - Buckets && ids[i] <= current)
            {
                s += successes[i];
                f += failures[i];
            }
        }

        return (s, f);
    }

    public void Clear()
    {
        Array.Clear(ids);
        Array.Clear(successes);
        Array.Clear(failures);
    }
}
