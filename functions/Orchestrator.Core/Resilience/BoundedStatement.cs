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
        using var timeout = new CancellationTokenSource(limit, time);
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, timeout.Token);
        try
        {
            await using var connection = await dataSource.OpenConnectionAsync(linked.Token);
            return await work(connection, linked.Token);
        }
        catch (OperationCanceledException ex) when (!cancellationToken.IsCancellationRequested)
        {
            throw new TimeoutException($"PostgreSQL did not answer within {limit}", ex);
        }
    }

    /// <summary>The command timeout (whole seconds) matching <paramref name="limit"/>, for Npgsql's own socket timeout.</summary>
    public static int CommandTimeoutSeconds(TimeSpan limit) => (int)Math.Max(1, Math.Ceiling(limit.TotalSeconds));
}
