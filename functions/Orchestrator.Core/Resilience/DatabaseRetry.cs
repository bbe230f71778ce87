using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Polly;
using Polly.Retry;
using Polly.Timeout;

namespace Orchestrator.Core.Resilience;

/// <summary>
/// Runs an activity's PostgreSQL call, retrying with jittered exponential back-off while the database is
/// unreachable, restarting or failing over, for up to <see cref="ResilienceOptions.DatabaseRetryWindow"/>. Every
/// call it wraps is idempotent, so an attempt whose outcome was lost with its connection may run again.
/// </summary>
public sealed class DatabaseRetry
{
    private readonly ResiliencePipeline pipeline;
    private readonly TimeSpan window;
    private readonly TimeProvider time;
    private readonly ILogger<DatabaseRetry> logger;

    public DatabaseRetry(IOptions<ResilienceOptions> options, TimeProvider time, ILogger<DatabaseRetry> logger)
    {
        window = options.Value.DatabaseRetryWindow;
        this.time = time;
        this.logger = logger;
        pipeline = new ResiliencePipelineBuilder { TimeProvider = time }
            .AddTimeout(new TimeoutStrategyOptions { Timeout = window })
            .AddRetry(new RetryStrategyOptions
            {
                ShouldHandle = new PredicateBuilder().Handle<Exception>(DependencyFailures.IsTransientDatabase),
                MaxRetryAttempts = int.MaxValue,
                BackoffType = DelayBackoffType.Exponential,
                UseJitter = true,
                Delay = TimeSpan.FromMilliseconds(200),
                MaxDelay = options.Value.DatabaseRetryMaxDelay,
            })
            .Build();
    }

    /// <summary>Runs <paramref name="call"/>; throws <see cref="DependencyUnavailableException"/> when the window runs out.</summary>
    public async Task<T> ExecuteAsync<T>(string what, Func<CancellationToken, Task<T>> call, CancellationToken cancellationToken)
    {
        var attempts = 0;
        Exception? last = null;
        var started = time.GetTimestamp();
        try
        {
            var result = await pipeline.ExecuteAsync(
                async token =>
                {
                    attempts++;
                    try
                    {
                        return await call(token);
                    }
                    catch (Exception ex) when (DependencyFailures.IsTransientDatabase(ex))
                    {
                        last = ex;
                        if (attempts == 1 || attempts % 10 == 0)
                        {
                            Log.DatabaseUnavailable(logger, what, attempts, ex.Message, window);
                        }

                        throw;
                    }
                },
                cancellationToken);
            if (attempts > 1)
            {
                Log.DatabaseBack(logger, what, attempts, time.GetElapsedTime(started));
            }

            return result;
        }
        catch (TimeoutRejectedException)
        {
            throw new DependencyUnavailableException(
                $"PostgreSQL stayed unavailable for {window} while {what} ({attempts} attempts; last error: {last?.Message ?? "timed out"})", last);
        }
    }

    public Task ExecuteAsync(string what, Func<CancellationToken, Task> call, CancellationToken cancellationToken) =>
        ExecuteAsync<bool>(what, async token =>
        {
            await call(token);
            return true;
        }, cancellationToken);
}
