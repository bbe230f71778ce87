using Microsoft.Extensions.Logging;
using Npgsql;
using Orchestrator.Core.Health;
using Orchestrator.Core.Resilience;

namespace Orchestrator.Core.Monitoring.Checks;

/// <summary>One bounded look at a database for a check: the answer, or nothing (logged) when the database does not answer.</summary>
internal static class CheckQuery
{
    /// <summary>Runs <paramref name="work"/> within the check's timeout; <c>Answered</c> is false when the database did not answer in it.</summary>
    public static async Task<(bool Answered, T Value)> TryAsync<T>(
        IMonitorCheck check, NpgsqlDataSource dataSource, string what, TimeProvider time, ILogger logger,
        Func<NpgsqlConnection, CancellationToken, Task<T>> work, CancellationToken cancellationToken)
    {
        try
        {
            return (true, await BoundedStatement.RunAsync(dataSource, check.Options.Timeout, time, work, cancellationToken));
        }
        catch (Exception ex) when (Unanswered(ex, cancellationToken))
        {
            Log.MonitorCheckCouldNotLook(logger, check.Name, what, HealthText.Describe(ex));
            return (false, default!);
        }
    }

    /// <summary>The database did not answer (refused, reset, timed out, failing over), as opposed to a bug in the query.</summary>
    public static bool Unanswered(Exception ex, CancellationToken cancellationToken) =>
        DependencyFailures.IsTransientDatabase(ex) || (ex is OperationCanceledException && !cancellationToken.IsCancellationRequested);
}
