using DbUp;
using DbUp.Postgresql;
using DbUp.Engine.Output;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Npgsql;

namespace Orchestrator.Core.Persistence;

/// <summary>Applies the embedded SQL migrations with DbUp at start, one instance at a time.</summary>
public sealed class DatabaseMigrator(
    NpgsqlDataSource dataSource,
    IOptions<PostgresOptions> options,
    PostgresAuthentication authentication,
    ILogger<DatabaseMigrator> logger) : IHostedService
{
    // Arbitrary but fixed: every instance of the product takes the same lock before migrating.
    private const long MigrationLockKey = 0x4C4C4D4F52434831;

    public async Task StartAsync(CancellationToken cancellationToken)
    {
        if (!options.Value.MigrateOnStart)
        {
            return;
        }

        await EnsureDatabaseExistsAsync(cancellationToken);

        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        await using (var lockCommand = new NpgsqlCommand("SELECT pg_advisory_lock(@key)", connection))
        {
            lockCommand.Parameters.AddWithValue("key", MigrationLockKey);
            await lockCommand.ExecuteNonQueryAsync(cancellationToken);
        }

        try
        {
            var upgrader = DeployChanges.To
                .PostgresqlDatabase(new PostgresqlConnectionManager(dataSource))
                .WithScriptsEmbeddedInAssembly(typeof(DatabaseMigrator).Assembly, name => name.EndsWith(".sql", StringComparison.Ordinal))
                .WithTransactionPerScript()
                .LogTo(new DbUpLog(logger))
                .Build();
            var result = upgrader.PerformUpgrade();
            if (!result.Successful)
            {
                throw new InvalidOperationException($"Database migration failed in {result.ErrorScript?.Name}: {result.Error.Message}", result.Error);
            }
        }
        finally
        {
            await using var unlock = new NpgsqlCommand("SELECT pg_advisory_unlock(@key)", connection);
            unlock.Parameters.AddWithValue("key", MigrationLockKey);
            await unlock.ExecuteNonQueryAsync(CancellationToken.None);
        }
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    private async Task EnsureDatabaseExistsAsync(CancellationToken cancellationToken)
    {
        var builder = new NpgsqlConnectionStringBuilder(options.Value.ConnectionString);
        var database = builder.Database;
        if (string.IsNullOrEmpty(database) || database == "postgres")
        {
            return;
        }

        builder.Database = "postgres";
        builder.Pooling = false;
        try
        {
            // The same sign-in as the data source (a password, or an Entra token), on a connection of its own.
            await using var maintenance = authentication.CreateDataSource(builder.ConnectionString);
            await using var connection = await maintenance.OpenConnectionAsync(cancellationToken);
            await using var exists = new NpgsqlCommand("SELECT 1 FROM pg_database WHERE datname = @name", connection);
            exists.Parameters.AddWithValue("name", database);
            if (await exists.ExecuteScalarAsync(cancellationToken) is null)
            {
                await using var create = new NpgsqlCommand($"CREATE DATABASE \"{database.Replace("\"", "\"\"", StringComparison.Ordinal)}\"", connection);
                await create.ExecuteNonQueryAsync(cancellationToken);
                Log.DatabaseCreated(logger, database);
            }
        }
        catch (PostgresException ex) when (ex.SqlState is PostgresErrorCodes.DuplicateDatabase or PostgresErrorCodes.InsufficientPrivilege)
        {
            // Created concurrently by another instance, or we may not create databases: migrations will tell.
        }
    }

    private sealed class DbUpLog(ILogger logger) : IUpgradeLog
    {
        public void LogTrace(string format, params object[] args) { }

        public void LogDebug(string format, params object[] args) { }

        public void LogInformation(string format, params object[] args) => Log.Migration(logger, string.Format(System.Globalization.CultureInfo.InvariantCulture, format, args));

        public void LogWarning(string format, params object[] args) => Log.Migration(logger, string.Format(System.Globalization.CultureInfo.InvariantCulture, format, args));

        public void LogError(string format, params object[] args) => Log.MigrationError(logger, string.Format(System.Globalization.CultureInfo.InvariantCulture, format, args));

        public void LogError(Exception ex, string format, params object[] args) => Log.MigrationError(logger, string.Format(System.Globalization.CultureInfo.InvariantCulture, format, args));
    }
}
