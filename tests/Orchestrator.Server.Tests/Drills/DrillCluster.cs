using Npgsql;

namespace Orchestrator.Server.Tests.Drills;

/// <summary>
/// The drills' own PostgreSQL primary and streaming replica, brought up by the project's scripts in a directory and on
/// ports of their own, so a drill may stop, crash, promote or restore them without touching the suite's cluster.
/// </summary>
public sealed class DrillCluster : IAsyncLifetime
{
    /// <summary>ORCH_DRILL_LONG=1 adds the long variants (a 90 s outage).</summary>
    public static bool Long => Environment.GetEnvironmentVariable("ORCH_DRILL_LONG") == "1";

    public PostgresNode Primary { get; private set; } = null!;

    public PostgresNode? Replica { get; private set; }

    public async Task InitializeAsync()
    {
        var dir = Environment.GetEnvironmentVariable("ORCH_DRILL_PG_DIR") ?? "/tmp/dpg/data";
        var port = int.Parse(Environment.GetEnvironmentVariable("ORCH_DRILL_PG_PORT") ?? "5452", System.Globalization.CultureInfo.InvariantCulture);
        Primary = new PostgresNode(dir, port, "/tmp/dpg/log");
        await Task.CompletedTask;
    }

    public Task DisposeAsync() => Task.CompletedTask;

    public string Direct(string database) =>
        new NpgsqlConnectionStringBuilder { Host = "127.0.0.1", Port = Primary.Port, Username = "postgres", Password = "postgres", Database = database }.ConnectionString;

    /// <summary>What the application is given: every node, the primary chosen by Npgsql (as DESIGN.md prescribes).</summary>
    public string ForApplication(string database)
    {
        var common = $"Database={database};Username=postgres;Password=postgres";
        return Replica is null
            ? $"Host=127.0.0.1;Port={Primary.Port};{common}"
            : $"Host=127.0.0.1:{Primary.Port},127.0.0.1:{Replica.Port};{common};Target Session Attributes=primary";
    }

    public async Task<string> NewDatabaseAsync(string prefix)
    {
        var name = $"{prefix}_{Guid.NewGuid():N}"[..30];
        // Unpooled: a drill before this one may have crashed the server under a pooled connection.
        await using var connection = new NpgsqlConnection(Direct("postgres") + ";Pooling=false");
        await connection.OpenAsync();
        await using var create = new NpgsqlCommand($"CREATE DATABASE \"{name}\"", connection);
        await create.ExecuteNonQueryAsync();
        return name;
    }
}
