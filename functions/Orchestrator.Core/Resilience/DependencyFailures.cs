using System.Net.Sockets;
using Microsoft.DurableTask;
using Npgsql;
using Orchestrator.Core.Llm;

namespace Orchestrator.Core.Resilience;

/// <summary>Tells an outage of a dependency (worth waiting out) from a failure of the work itself.</summary>
public static class DependencyFailures
{
    // SQLSTATEs Npgsql does not mark transient but that a failover or restart produces: the server we reached is a
    // standby (read-only), or the database is starting up or being shut down.
    private static readonly HashSet<string> FailoverStates = new(StringComparer.Ordinal) { "25006", "57P01", "57P02", "57P03", "58000", "58030" };

    // Exception type names as a failed activity reports them to the orchestration.
    private static readonly HashSet<string> OutageTypes = new(StringComparer.Ordinal)
    {
        typeof(DependencyUnavailableException).FullName!,
        typeof(LlmUnavailableException).FullName!,
        typeof(NpgsqlException).FullName!,
        typeof(PostgresException).FullName!,
        typeof(TimeoutException).FullName!,
        typeof(IOException).FullName!,
        typeof(SocketException).FullName!,
        "Azure.RequestFailedException",
    };

    /// <summary>True when a PostgreSQL call failed because the database was unreachable, restarting, failing over or overloaded.</summary>
    public static bool IsTransientDatabase(Exception exception) => exception switch
    {
        PostgresException postgres => postgres.IsTransient || FailoverStates.Contains(postgres.SqlState),
        // Below the SQL level every Npgsql failure is about reaching a server: refused, reset, timed out, or (with
        // several hosts and Target Session Attributes) no host that is the primary yet.
        NpgsqlException => true,
        TimeoutException or IOException or SocketException => true,
        _ => false,
    };

    /// <summary>True when a failed activity failed because a dependency was unavailable, not because of its own work.</summary>
    public static bool IsOutage(TaskFailureDetails failure)
    {
        for (var current = failure; current is not null; current = current.InnerFailure)
        {
            if (OutageTypes.Contains(current.ErrorType))
            {
                return true;
            }
        }

        return false;
    }
}
