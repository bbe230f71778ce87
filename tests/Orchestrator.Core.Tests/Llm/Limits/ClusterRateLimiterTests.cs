using System.Diagnostics;
using System.Threading.RateLimiting;
using Microsoft.Extensions.Logging.Abstractions;
using Orchestrator.Core.Llm.Limits;
using Orchestrator.Core.Tests.Fakes;

namespace Orchestrator.Core.Tests.Llm.Limits;

/// <summary>Sliding-window limits (requests, tokens) shared through PostgreSQL by several instances of the product.</summary>
public sealed class ClusterRateLimiterTests(PostgresDatabase database) : IClassFixture<PostgresDatabase>
{
    private static readonly TimeSpan Window = TimeSpan.FromSeconds(3);
    // One database for the class; each test limits a provider of its own.
    private readonly string provider = $"provider-{Guid.NewGuid():N}";

    [Fact]
    public async Task Two_instances_grant_at_most_the_limit_in_any_window_long_interval_and_everyone_in_turn()
    {
        await using var one = Limiter(ClusterRateLimiter.Requests, 10, TimeSpan.FromSeconds(15));
        await using var two = Limiter(ClusterRateLimiter.Requests, 10, TimeSpan.FromSeconds(15));
        var clock = Stopwatch.StartNew();

        var grants = await Task.WhenAll(Enumerable.Range(0, 40).Select(async i =>
        {
            using var lease = await (i % 2 == 0 ? one : two).AcquireAsync(1);
            return (lease.IsAcquired, At: clock.Elapsed);
        }));

        Assert.All(grants, g => Assert.True(g.IsAcquired));
        var times = grants.Select(g => g.At).Order().ToArray();
        // The 11th grant after any grant comes a window later. The slack is the spread between the database's clock,
        // which decides, and the moment the test sees the reply (a loaded two-core machine delays some replies by a
        // few hundred ms); a fixed per-window count would put 20 grants within milliseconds of each other.
        for (var i = 0; i + 10 < times.Length; i++)
        {
            Assert.True(times[i + 10] - times[i] >= Window - TimeSpan.FromMilliseconds(400), $"grants {i} and {i + 10} are {times[i + 10] - times[i]} apart");
        }
    }

    [Fact]
    public async Task With_a_short_queue_timeout_the_rest_are_refused_with_a_retry_after_within_the_window()
    {
        await using var one = Limiter(ClusterRateLimiter.Requests, 10, TimeSpan.FromMilliseconds(500));
        await using var two = Limiter(ClusterRateLimiter.Requests, 10, TimeSpan.FromMilliseconds(500));

        var leases = await Task.WhenAll(Enumerable.Range(0, 40).Select(async i => await (i % 2 == 0 ? one : two).AcquireAsync(1)));

        Assert.Equal(10, leases.Count(l => l.IsAcquired));
        Assert.All(leases.Where(l => !l.IsAcquired), l =>
        {
            Assert.True(l.TryGetMetadata(MetadataName.RetryAfter, out var retryAfter));
            Assert.InRange(retryAfter, TimeSpan.FromTicks(1), Window);
        });
    }

    [Fact]
    public async Task A_request_larger_than_the_limit_is_refused_at_once_with_the_reason()
    {
        await using var tokens = Limiter(ClusterRateLimiter.Tokens, 1000, TimeSpan.FromSeconds(10));
        var clock = Stopwatch.StartNew();

        using var lease = await tokens.AcquireAsync(1001);

        Assert.False(lease.IsAcquired);
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(1));
        Assert.True(lease.TryGetMetadata(MetadataName.ReasonPhrase, out var reason));
        Assert.Contains("never fit", reason, StringComparison.Ordinal);
        Assert.False(lease.TryGetMetadata(MetadataName.RetryAfter, out _));
    }

    [Fact]
    public async Task Tokens_settled_lower_than_estimated_are_free_for_the_next_call_at_once()
    {
        await using var tokens = Limiter(ClusterRateLimiter.Tokens, 100, TimeSpan.Zero);
        await using var elsewhere = Limiter(ClusterRateLimiter.Tokens, 100, TimeSpan.Zero);

        var estimated = await tokens.AcquireAsync(80);
        using var before = await elsewhere.AcquireAsync(70);
        await tokens.SettleAsync(estimated, 30, default);
        using var after = await elsewhere.AcquireAsync(70);
        using var full = await elsewhere.AcquireAsync(1);

        Assert.True(estimated.IsAcquired);
        Assert.False(before.IsAcquired);
        Assert.True(after.IsAcquired);
        Assert.False(full.IsAcquired);
    }

    [Fact]
    public async Task Tokens_settled_higher_than_estimated_count_in_full()
    {
        await using var tokens = Limiter(ClusterRateLimiter.Tokens, 100, TimeSpan.Zero);

        using var estimated = await tokens.AcquireAsync(50);
        using var fits = await tokens.AcquireAsync(10);
        await tokens.SettleAsync(estimated, 85, default);
        using var tooMany = await tokens.AcquireAsync(10);
        using var last = await tokens.AcquireAsync(5);

        Assert.True(estimated.IsAcquired && fits.IsAcquired && last.IsAcquired);
        Assert.False(tooMany.IsAcquired);
    }

    [Fact]
    public async Task Requests_and_tokens_of_one_provider_are_counted_apart()
    {
        await using var requests = Limiter(ClusterRateLimiter.Requests, 1, TimeSpan.Zero);
        await using var tokens = Limiter(ClusterRateLimiter.Tokens, 1, TimeSpan.Zero);

        using var request = await requests.AcquireAsync(1);
        using var token = await tokens.AcquireAsync(1);

        Assert.True(request.IsAcquired && token.IsAcquired);
    }

    private ClusterRateLimiter Limiter(string kind, int limit, TimeSpan queueTimeout) =>
        new(provider, kind, limit, Window, database.DataSource, new LlmLimitOptions { QueueTimeout = queueTimeout }, TimeProvider.System, NullLogger.Instance);
}
