namespace Orchestrator.Core.Llm.Limits;

/// <summary>
/// One provider's cluster-wide limits: calls at once, and (when the provider sets them) requests and tokens per minute.
/// </summary>
/// <remarks>
/// In the gateway's Polly pipeline (Polly.RateLimiting), outermost first so a call waits for its window before it
/// takes a slot; the token lease is kept in the context so the call can settle it to the tokens it really used:
/// <code>
/// if (limits.Requests is { } requests)
///     builder.AddRateLimiter(new RateLimiterStrategyOptions { RateLimiter = args => requests.AcquireAsync(1, args.Context.CancellationToken) });
/// if (limits.Tokens is { } tokens)
///     builder.AddRateLimiter(new RateLimiterStrategyOptions { RateLimiter = async args =>
///     {
///         var lease = await tokens.AcquireAsync(args.Context.Properties.GetValue(EstimatedTokens, 1), args.Context.CancellationToken);
///         args.Context.Properties.Set(TokenLease, lease);
///         return lease;
///     } });
/// builder.AddRateLimiter(new RateLimiterStrategyOptions { RateLimiter = args => limits.Concurrency.AcquireAsync(1, args.Context.CancellationToken) });
/// // In the callback, after the reply: await tokens.SettleAsync(context.Properties.GetValue(TokenLease, null!), usage.TotalTokens, ct);
/// </code>
/// A refused lease makes Polly throw <c>RateLimiterRejectedException</c>, whose <c>RetryAfter</c> comes from the lease.
/// </remarks>
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
