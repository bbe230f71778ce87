using System.Collections.Concurrent;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Npgsql;
using Orchestrator.Core.Hosting;

namespace Orchestrator.Core.Llm.Limits;

/// <summary>
/// Builds a provider's cluster-wide limiters from the numbers in its configuration, once per provider and limits;
/// owns them, so disposing the container stops their slot renewals.
/// </summary>
public sealed class ProviderLimiterFactory(
    NpgsqlDataSource dataSource,
    InstanceIdentity identity,
    IOptions<LlmLimitOptions> options,
    TimeProvider time,
    ILoggerFactory loggers) : IAsyncDisposable, IDisposable
{
    private readonly ConcurrentDictionary<(string, int, int?, int?), Lazy<ProviderLimiters>> created = new();

    /// <summary>How long a call with no other provider to turn to waits for a slot or for room in a window.</summary>
    public TimeSpan QueueTimeout => options.Value.QueueTimeout;

    /// <summary>The limiters of <paramref name="provider"/>; per-minute limits that are null are not enforced.</summary>
    public ProviderLimiters Create(string provider, int maxConcurrency, int? requestsPerMinute, int? tokensPerMinute)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(provider);
        ArgumentOutOfRangeException.ThrowIfLessThan(maxConcurrency, 1);
        return created.GetOrAdd(
            (provider, maxConcurrency, requestsPerMinute, tokensPerMinute),
            key => new Lazy<ProviderLimiters>(() => Build(key.Item1, key.Item2, key.Item3, key.Item4))).Value;
    }

    private ProviderLimiters Build(string provider, int maxConcurrency, int? requestsPerMinute, int? tokensPerMinute)
    {
        var settings = options.Value;
        var logger = loggers.CreateLogger<ProviderLimiters>();
        return new ProviderLimiters(
            new ClusterConcurrencyLimiter(provider, maxConcurrency, dataSource, identity, settings, time, logger),
            requestsPerMinute is { } rpm ? PerMinute(ClusterRateLimiter.Requests, rpm) : null,
            tokensPerMinute is { } tpm ? PerMinute(ClusterRateLimiter.Tokens, tpm) : null);

        ClusterRateLimiter PerMinute(string kind, int limit) =>
            new(provider, kind, limit, TimeSpan.FromMinutes(1), dataSource, settings, time, logger);
    }

    public void Dispose()
    {
        foreach (var limiters in created.Values.Where(l => l.IsValueCreated))
        {
            limiters.Value.Dispose();
        }
    }

    public async ValueTask DisposeAsync()
    {
        foreach (var limiters in created.Values.Where(l => l.IsValueCreated))
        {
            await limiters.Value.DisposeAsync();
        }
    }
}
