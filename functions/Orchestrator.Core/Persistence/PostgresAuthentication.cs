using Azure.Core;
using Azure.Identity;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using Npgsql;

namespace Orchestrator.Core.Persistence;

/// <summary>
/// Makes every data source of the process (<see cref="CreateDataSource"/>), so all of them sign in to PostgreSQL one
/// way: with the connection string's password, or, with <see cref="PostgresOptions.UseManagedIdentity"/>, with a
/// Microsoft Entra access token of the app's managed identity (Azure Database for PostgreSQL with Entra
/// authentication), fetched before it expires and used as the password of each new physical connection. There is then
/// no database password to store, leak or rotate. One per process: the pools, the monitors' pool, the replica's and the
/// migrations share one credential and its token cache.
/// </summary>
public sealed class PostgresAuthentication
{
    /// <summary>The scope of Azure Database for PostgreSQL tokens.</summary>
    public const string EntraScope = "https://ossrdbms-aad.database.windows.net/.default";

    // Entra tokens live 60-90 minutes; a new one is fetched well before, and soon again after a failure.
    private static readonly TimeSpan RefreshInterval = TimeSpan.FromMinutes(30);
    private static readonly TimeSpan RetryInterval = TimeSpan.FromSeconds(10);
    private static readonly TokenRequestContext TokenRequest = new([EntraScope]);

    private readonly bool useManagedIdentity;
    private readonly Lazy<TokenCredential> credential;
    private readonly ILoggerFactory loggerFactory;

    public PostgresAuthentication(IOptions<PostgresOptions> options, ILoggerFactory loggerFactory)
        : this(options.Value, credential: null, loggerFactory)
    {
    }

    /// <summary>With <paramref name="credential"/> instead of the managed identity (tests).</summary>
    internal PostgresAuthentication(PostgresOptions options, TokenCredential? credential, ILoggerFactory? loggerFactory = null)
    {
        this.loggerFactory = loggerFactory ?? NullLoggerFactory.Instance;
        useManagedIdentity = options.UseManagedIdentity;
        this.credential = new Lazy<TokenCredential>(() => credential
            ?? new DefaultAzureCredential(new DefaultAzureCredentialOptions { ManagedIdentityClientId = options.ManagedIdentityClientId }));
    }

    /// <summary>
    /// A data source for <paramref name="connectionString"/> that signs in this way and logs through the host;
    /// <paramref name="name"/> is its pool's name in Npgsql's metrics.
    /// </summary>
    public NpgsqlDataSource CreateDataSource(string connectionString, string? name = null)
    {
        var builder = new NpgsqlDataSourceBuilder(connectionString) { Name = name }.UseLoggerFactory(loggerFactory);
        if (useManagedIdentity)
        {
            builder.UsePeriodicPasswordProvider(
                async (_, cancellationToken) => (await credential.Value.GetTokenAsync(TokenRequest, cancellationToken)).Token,
                RefreshInterval,
                RetryInterval);
        }

        return builder.Build();
    }
}
