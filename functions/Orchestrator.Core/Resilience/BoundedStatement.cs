using Npgsql;

namespace Orchestrator.Core.Resilience;

/// <summary>
/// Runs one piece of database work on a connection of its own within a time limit, connecting included, so a database
/// that stops answering (rather than refusing connections) costs a caller at most that long: past it the work ends
/// with a <see cref="TimeoutException"/>, which <see cref="DependencyFailures.IsTransientDatabase"/> counts as an outage.
/// For the shared LLM state (breakers, limits), which must fall back to local state quickly rather than wait.
/// </summary>
internal static class BoundedStatement
{
    public static async Task<T> RunAsync<T>(
        NpgsqlDataSource dataSource, TimeSpan limit, TimeProvider time,
        Func<NpgsqlConnection, CancellationToken, Task<T>> work, CancellationToken cancellationToken)
    {
        // The work is asked to stop at the limit, but Npgsql's cancellation of a command waits for the server (a
        // cancel request of its own, and the command timeout) which, stalled, does not answer: so the caller stops
        // waiting at the limit and the work ends in the background, its connection broken and returned.
        var running = RunCancellableAsync(dataSource, limit, time, work, cancellationToken);
        try
        {
            return await running.WaitAsync(limit, time, cancellationToken);
        }
        catch (Exception ex) when (ex is TimeoutException || (ex is OperationCanceledException && !cancellationToken.IsCancellationRequested))
        {
            _ = running.ContinueWith(static t => _ = t.Exception, CancellationToken.None, TaskContinuationOptions.OnlyOnFaulted, TaskScheduler.Default);
            throw new TimeoutException($"PostgreSQL did not answer within {limit}", ex);
        }
    }

    private static async Task<T> RunCancellableAsync<T>(
        NpgsqlDataSource dataSource, TimeSpan limit, TimeProvider time,
        Func<NpgsqlConnection, CancellationToken, Task<T>> work, CancellationToken cancellationToken)
    {
        using var timeout = new CancellationTokenSource(limit, time);
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, timeout.Token);
        await using var connection = await dataSource.OpenConnectionAsync(linked.Token);
        return await work(connection, linked.Token);
    }

    /// <summary>The command timeout (whole seconds) matching <paramref name="limit"/>, for Npgsql's own socket timeout.</summary>
    public static int CommandTimeoutSeconds(TimeSpan limit) => (int)Math.Max(1, Math.Ceiling(limit.TotalSeconds));
}
