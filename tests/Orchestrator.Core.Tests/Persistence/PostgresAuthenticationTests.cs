using System.ComponentModel.DataAnnotations;
using Azure.Core;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using Npgsql;
using Orchestrator.Core.Persistence;
using Orchestrator.Core.Tests.Fakes;

namespace Orchestrator.Core.Tests.Persistence;

/// <summary>
/// <c>Postgres:UseManagedIdentity</c>: every connection of the process (the pool, the migrations, the maintenance
/// connection that creates the database) signs in with the identity's access token, as on Azure Database for
/// PostgreSQL with Entra authentication. Here the token is a role's password on the local server.
/// </summary>
public sealed class PostgresAuthenticationTests : IAsyncLifetime
{
    private static string Admin => PostgresDatabase.Admin;

    private readonly string role = $"entra_{Guid.NewGuid():N}"[..30];
    private readonly string token = $"eyJ0eXAi.{Guid.NewGuid():N}.{Guid.NewGuid():N}";
    private string Database => role + "_db";

    public async Task InitializeAsync() => await AdminAsync($"CREATE ROLE {role} LOGIN CREATEDB PASSWORD '{token}'");

    public async Task DisposeAsync()
    {
        NpgsqlConnection.ClearAllPools();
        await AdminAsync($"DROP DATABASE IF EXISTS {Database} WITH (FORCE)");
        await AdminAsync($"DROP ROLE IF EXISTS {role}");
    }

    [Fact]
    public async Task The_pool_and_the_migrations_sign_in_with_the_identitys_token_and_no_password()
    {
        var credential = new FakeCredential(token);
        var options = IdentityOptions();
        var authentication = new PostgresAuthentication(options, credential);
        await using var dataSource = authentication.CreateDataSource(options.ConnectionString);

        // Creates the database (over a maintenance connection) and migrates it, both signed in with the token.
        await new DatabaseMigrator(dataSource, Options.Create(options), authentication, NullLogger<DatabaseMigrator>.Instance).StartAsync(CancellationToken.None);

        await using var command = dataSource.CreateCommand("SELECT current_user, to_regclass('workflow_states') IS NOT NULL");
        await using var reader = await command.ExecuteReaderAsync();
        Assert.True(await reader.ReadAsync());
        Assert.Equal(role, reader.GetString(0));
        Assert.True(reader.GetBoolean(1), "the migrations did not run");
        Assert.All(credential.Scopes, scopes => Assert.Equal([PostgresAuthentication.EntraScope], scopes));
    }

    [Fact]
    public async Task Without_a_token_no_connection_opens()
    {
        var options = IdentityOptions();
        await using var dataSource = new PostgresAuthentication(options, new FakeCredential("not-the-password")).CreateDataSource(options.ConnectionString);

        var error = await Assert.ThrowsAsync<PostgresException>(async () => await dataSource.OpenConnectionAsync());
        Assert.Equal(PostgresErrorCodes.InvalidPassword, error.SqlState);
    }

    [Fact]
    public void A_password_next_to_the_managed_identity_is_refused_naming_the_setting()
    {
        var options = new PostgresOptions { UseManagedIdentity = true, ConnectionString = "Host=db;Database=workflows;Username=app;Password=secret" };

        var results = new List<ValidationResult>();
        Assert.False(Validator.TryValidateObject(options, new ValidationContext(options), results, validateAllProperties: true));
        var result = Assert.Single(results);
        Assert.Equal([nameof(PostgresOptions.ConnectionString)], result.MemberNames);
        Assert.Contains("UseManagedIdentity", result.ErrorMessage);
    }

    private PostgresOptions IdentityOptions() => new()
    {
        UseManagedIdentity = true,
        ConnectionString = new NpgsqlConnectionStringBuilder(Admin) { Username = role, Password = null, Database = Database }.ConnectionString,
    };

    private static async Task AdminAsync(string sql)
    {
        await using var connection = new NpgsqlConnection(Admin);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand(sql, connection);
        await command.ExecuteNonQueryAsync();
    }

    private sealed class FakeCredential(string token) : TokenCredential
    {
        public List<string[]> Scopes { get; } = [];

        public override AccessToken GetToken(TokenRequestContext requestContext, CancellationToken cancellationToken)
        {
            lock (Scopes)
            {
                Scopes.Add(requestContext.Scopes);
            }

            return new AccessToken(token, DateTimeOffset.UtcNow.AddHours(1));
        }

        public override ValueTask<AccessToken> GetTokenAsync(TokenRequestContext requestContext, CancellationToken cancellationToken) =>
            ValueTask.FromResult(GetToken(requestContext, cancellationToken));
    }
}
