using Orchestrator.Server.Durable;
using Npgsql;

namespace Orchestrator.Server.Tests.Infrastructure;

/// <summary>Where the infrastructure started by scripts/infra-up.sh is (overridable by environment variables).</summary>
public static class TestEnvironment
{
    public static string PostgresAdmin =>
        Environment.GetEnvironmentVariable("ORCH_TEST_POSTGRES") ?? "Host=127.0.0.1;Port=5432;Username=postgres;Password=postgres;Database=postgres";

    /// <summary>The tokens every test Server is started with.</summary>
    public const string AdminToken = "e2e-admin-token-0123456789";
    public const string ApiKey = "e2e-api-key-0123456789abcdef";
    public const string ApiKeyName = "e2e";

    public static string PostgresReplica =>
        Environment.GetEnvironmentVariable("ORCH_TEST_POSTGRES_REPLICA") ?? "Host=127.0.0.1;Port=5433;Username=postgres;Password=postgres;Database=postgres";

    /// <summary>The replica's copy of a test database (streaming replication copies every database).</summary>
    public static string ReplicaOf(string connectionString) =>
        new NpgsqlConnectionStringBuilder(PostgresReplica) { Database = new NpgsqlConnectionStringBuilder(connectionString).Database }.ConnectionString;

    public static string Azurite => Environment.GetEnvironmentVariable("ORCH_TEST_AZURITE") ?? "UseDevelopmentStorage=true";

    /// <summary>Azurite's well-known development account key (public, documented; only Azurite accepts it).</summary>
    public const string AzuriteAccountKey = "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==";

    /// <summary>
    /// The durable backend every test Server is started with: <c>ORCH_TEST_DURABLE_BACKEND</c>, <c>Postgres</c> (the
    /// default) or <c>AzureStorage</c>. scripts/test.sh runs the Server tests once per backend.
    /// </summary>
    public static DurableBackendKind DurableBackend => Environment.GetEnvironmentVariable("ORCH_TEST_DURABLE_BACKEND") switch
    {
        null or "" or nameof(DurableBackendKind.Postgres) => DurableBackendKind.Postgres,
        nameof(DurableBackendKind.AzureStorage) => DurableBackendKind.AzureStorage,
        var other => throw new InvalidOperationException(
            $"ORCH_TEST_DURABLE_BACKEND is '{other}'; it must be {nameof(DurableBackendKind.Postgres)} (the default) or {nameof(DurableBackendKind.AzureStorage)}."),
    };

    /// <summary>
    /// The Azure Storage setting of a Server on the Postgres backend: Azurite's account where nothing listens, so a
    /// Server that touched Azure Storage anyway would fail instead of quietly using the Azurite the suite runs.
    /// </summary>
    public static string UnreachableStorage { get; } =
        $"DefaultEndpointsProtocol=http;AccountName=devstoreaccount1;AccountKey={AzuriteAccountKey};" +
        "BlobEndpoint=http://127.0.0.1:1/devstoreaccount1;QueueEndpoint=http://127.0.0.1:1/devstoreaccount1;TableEndpoint=http://127.0.0.1:1/devstoreaccount1;";

    public static string RepositoryRoot
    {
        get
        {
            var dir = new DirectoryInfo(AppContext.BaseDirectory);
            while (dir is not null && !File.Exists(Path.Combine(dir.FullName, "Orchestrator.Functions.sln")))
            {
                dir = dir.Parent;
            }

            return dir?.FullName ?? throw new InvalidOperationException("Orchestrator.Functions.sln not found above " + AppContext.BaseDirectory);
        }
    }

    /// <summary>A connection string to a fresh database of its own, for one test fixture.</summary>
    public static string NewDatabase(string prefix)
    {
        var builder = new NpgsqlConnectionStringBuilder(PostgresAdmin) { Database = $"{prefix}_{Guid.NewGuid():N}"[..40] };
        return builder.ConnectionString;
    }

    public static async Task DropDatabaseAsync(string connectionString)
    {
        var database = new NpgsqlConnectionStringBuilder(connectionString).Database!;
        NpgsqlConnection.ClearAllPools();
        await using var connection = new NpgsqlConnection(PostgresAdmin);
        await connection.OpenAsync();
        await using var drop = new NpgsqlCommand($"DROP DATABASE IF EXISTS \"{database}\" WITH (FORCE)", connection);
        await drop.ExecuteNonQueryAsync();
    }
}
