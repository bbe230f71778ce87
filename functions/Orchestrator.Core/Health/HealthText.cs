using Npgsql;

namespace Orchestrator.Core.Health;

/// <summary>What a health check says about a failure: the kind of error, never a connection string or a payload.</summary>
public static class HealthText
{
    public static string Describe(Exception ex) => ex switch
    {
        PostgresException pg => $"PostgreSQL error {pg.SqlState}",
        NpgsqlException { InnerException: System.Net.Sockets.SocketException socket } => $"connection failed ({socket.SocketErrorCode})",
        NpgsqlException { InnerException: TimeoutException } or TimeoutException or OperationCanceledException => "no answer in time",
        NpgsqlException => "connection failed",
        _ => ex.GetType().Name,
    };
}
