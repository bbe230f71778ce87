using Microsoft.Extensions.Options;
using Npgsql;

namespace Orchestrator.Core.Persistence;

/// <summary>A small pool to the streaming replica, for health and lag checks only; null when none is configured.</summary>
public sealed class ReplicaDataSource : IAsyncDisposable
{
    public ReplicaDataSource(IOptions<PostgresOptions> options, PostgresAuthentication authentication)
    {
        var connectionString = options.Value.ReplicaConnectionString;
        if (string.IsNullOrWhiteSpace(connectionString))
        {
            return;
        }

        var builder = new NpgsqlConnectionStringBuilder(connectionString) { MaxPoolSize = 2, Timeout = 3, CommandTimeout = 3 };
        if (string.IsNullOrEmpty(builder.ApplicationName))
        {
            builder.ApplicationName = "llm-orchestrator-health";
        }

        DataSource = authentication.CreateDataSource(builder.ConnectionString, "replica");
    }

    public NpgsqlDataSource? DataSource { get; }

    public ValueTask DisposeAsync() => DataSource?.DisposeAsync() ?? ValueTask.CompletedTask;
}
