using Npgsql;
using Orchestrator.Core.Tests.Fakes;

namespace Orchestrator.Core.Tests.Persistence;

/// <summary>
/// As on Azure Database for PostgreSQL: the app's role owns the tables, and an on-call engineer signs in as another
/// member of <c>azure_pg_admin</c>. The runbook's queries must work for them; changing data must not.
/// </summary>
public sealed class OperatorReadAccessTests : IAsyncLifetime
{
    private static string Admin => PostgresDatabase.Admin;

    private readonly PostgresDatabase database = new();
    private readonly string operatorRole = $"oncall_{Guid.NewGuid():N}"[..24];

    public async Task InitializeAsync()
    {
        // The role Azure provides; created once on this cluster and kept (other tests' migrations may be granting to it).
        await AdminAsync("DO $$ BEGIN CREATE ROLE azure_pg_admin NOLOGIN; EXCEPTION WHEN duplicate_object THEN NULL; END $$");
        await AdminAsync($"CREATE ROLE {operatorRole} LOGIN PASSWORD 'oncall-password' IN ROLE azure_pg_admin");
        await database.InitializeAsync();
    }

    public async Task DisposeAsync()
    {
        await database.DisposeAsync();
        await AdminAsync($"DROP ROLE IF EXISTS {operatorRole}");
    }

    [Fact]
    public async Task An_azure_pg_admin_member_can_run_the_runbooks_queries_but_not_change_a_row()
    {
        await using var connection = new NpgsqlConnection(new NpgsqlConnectionStringBuilder(database.ConnectionString) { Username = operatorRole, Password = "oncall-password", Pooling = false }.ConnectionString);
        await connection.OpenAsync();

        await using (var count = new NpgsqlCommand("SELECT COUNT(*) FROM workflow_states", connection))
        {
            Assert.Equal(0L, await count.ExecuteScalarAsync());
        }

        await using (var incidents = new NpgsqlCommand("SELECT COUNT(*) FROM incidents", connection))
        {
            Assert.Equal(0L, await incidents.ExecuteScalarAsync());
        }

        await using var delete = new NpgsqlCommand("DELETE FROM workflow_states", connection);
        var refused = await Assert.ThrowsAsync<PostgresException>(() => delete.ExecuteNonQueryAsync());
        Assert.Equal(PostgresErrorCodes.InsufficientPrivilege, refused.SqlState);
    }

    private static async Task AdminAsync(string sql)
    {
        await using var connection = new NpgsqlConnection(Admin);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand(sql, connection);
        await command.ExecuteNonQueryAsync();
    }
}
