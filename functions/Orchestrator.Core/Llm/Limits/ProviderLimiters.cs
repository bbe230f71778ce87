namespace Orchestrator.Core.Llm.Limits;

/// <summary>
/// One provider's cluster-wide limits: calls at once, and (when the provider sets them) requests and tokens per minute.
/// </summary>
/// <remarks>The gateway puts them in each provider's Polly pipeline (<see cref="LlmGateway"/>); a refused lease makes Polly throw <c>RateLimiterRejectedException</c> with the lease's retry-after.</remarks>
public sealed class ProviderLimiters(
    ClusterConcurrencyLimiter concurrency, ClusterRateLimiter? requests, ClusterRateLimiter? tokens) : IAsyncDisposable, IDisposable
{
    public ClusterConcurrencyLimiter Concurrency => concurrency;

    /// <summary>Requests per minute; null when the provider sets no such limit.</summary>
    public ClusterRateLimiter? Requests => requests;

    /// <summary>Tokens per minute (acquire the estimate, settle to the usage); null when the provider sets no such limit.</summary>
    public ClusterRateLimiter? Tokens => tokens;

    public void Dispose()
    {
        concurrency.Dispose();
        requests?.Dispose();
        tokens?.Dispose();
    }

    public async ValueTask DisposeAsync()
    {
        await concurrency.DisposeAsync();
        if (requests is not null)
        {
            await requests.DisposeAsync();
        }

        if (tokens is not null)
        {
            await tokens.DisposeAsync();
        }
    }
}
