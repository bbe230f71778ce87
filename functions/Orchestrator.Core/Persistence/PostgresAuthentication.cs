using Azure.Core;
using Azure.Identity;
using Npgsql;

namespace Orchestrator.Core.Persistence;

/// <summary>
/// How every data source of the process signs in to PostgreSQL: with the connection string's password, or, with
/// <see cref="PostgresOptions.UseManagedIdentity"/>, with a Microsoft Entra access token of the app's managed identity
/// (Azure Database for PostgreSQL with Entra authentication), fetched before it expires and used as the password of
/// each new physical connection. There is then no database password to store, leak or rotate.
/// </summary>
public static class PostgresAuthentication
{
    /// <summary>The scope of Azure Database for PostgreSQL tokens.</summary>
    public const string EntraScope = "https://ossrdbms-aad.database.windows.net/.default";

    // Entra tokens live 60-90 minutes; a new one is fetched well before, and soon again after a failure.
    private static readonly TimeSpan RefreshInterval = TimeSpan.FromMinutes(30);
    private static readonly TimeSpan RetryInterval = TimeSpan.FromSeconds(10);

    public static NpgsqlDataSourceBuilder UsePostgresAuthentication(this NpgsqlDataSourceBuilder builder, PostgresOptions options, TokenCredential? credential = null)
    {
        if (!options.UseManagedIdentity)
        {
            return builder;
        }

        credential ??= new DefaultAzureCredential(new DefaultAzureCredentialOptions { ManagedIdentityClientId = options.ManagedIdentityClientId });
        var context = new TokenRequestContext([EntraScope]);
        builder.UsePeriodicPasswordProvider(
            async (_, cancellationToken) => (await credential.GetTokenAsync(context, cancellationToken)).Token,
            RefreshInterval,
            RetryInterval);
        return builder;
    }
}
