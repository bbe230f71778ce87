using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using Npgsql;
using Orchestrator.Core.Persistence;

namespace Orchestrator.Core.Tests.Fakes;

/// <summary>A fresh, migrated database on the PostgreSQL that scripts/infra-up.sh starts; dropped afterwards.</summary>
public sealed class PostgresDatabase : IAsyncLifetime
{
    /// <summary>The superuser connection to the test server (ORCH_TEST_POSTGRES), database postgres.</summary>
    public static string Admin =>
        Environment.GetEnvironmentVariable("ORCH_TEST_POSTGRES") ?? "Host=127.0.0.1;Port=5432;Username=postgres;Password=postgres;Database=postgres";

    public string ConnectionString { get; } =
        new NpgsqlConnectionStringBuilder(Admin) { Database = $"orch_unit_{Guid.NewGuid():N}"[..36] }.ConnectionString;

    public NpgsqlDataSource DataSource { get; private set; } = null!;

    public async Task InitializeAsync()
    {
        DataSource = NpgsqlDataSource.Create(ConnectionString);
        var options = Options.Create(new PostgresOptions { ConnectionString = ConnectionString });
        var migrator = new DatabaseMigrator(DataSource, options, new PostgresAuthentication(options, NullLoggerFactory.Instance), NullLogger<DatabaseMigrator>.Instance);
        await migrator.StartAsync(CancellationToken.None);
    }

    public async Task DisposeAsync()
    {
        await DataSource.DisposeAsync();
        NpgsqlConnection.ClearAllPools();
        await using var connection = new NpgsqlConnection(Admin);
        await connection.OpenAsync();
        await using var drop = new NpgsqlCommand($"DROP DATABASE IF EXISTS \"{new NpgsqlConnectionStringBuilder(ConnectionString).Database}\" WITH (FORCE)", connection);
        await drop.ExecuteNonQueryAsync();
    }

    public async Task<long> CountAsync(string table)
    {
        await using var command = DataSource.CreateCommand($"SELECT count(*) FROM {table}");
        return (long)(await command.ExecuteScalarAsync())!;
    }
}
