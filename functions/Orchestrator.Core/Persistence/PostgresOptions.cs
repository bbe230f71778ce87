using System.ComponentModel.DataAnnotations;
using Npgsql;

namespace Orchestrator.Core.Persistence;

/// <summary>Connection and pool settings for the one PostgreSQL data source of the process.</summary>
public sealed class PostgresOptions : IValidatableObject
{
    public const string SectionName = "Postgres";

    /// <summary>Npgsql connection string; multi-host strings (<c>Host=a,b;Target Session Attributes=primary</c>) find a promoted replica.</summary>
    [Required]
    public string ConnectionString { get; set; } =
        "Host=127.0.0.1;Port=5432;Database=workflows;Username=postgres;Password=postgres";

    /// <summary>
    /// The streaming replica, checked by <c>/health</c> (lag, WAL receiver); empty when there is none. The Server's
    /// appsettings.json points it at the local replica that scripts/infra-up.sh starts.
    /// </summary>
    public string? ReplicaConnectionString { get; set; }

    [Range(1, 1000)]
    public int MaxPoolSize { get; set; } = 50;

    [Range(0, 1000)]
    public int MinPoolSize { get; set; }

    [Range(1, 300)]
    public int ConnectionTimeoutSeconds { get; set; } = 15;

    [Range(1, 3600)]
    public int CommandTimeoutSeconds { get; set; } = 30;

    /// <summary>
    /// Sign in with a Microsoft Entra token of the managed identity instead of a password (Azure Database for
    /// PostgreSQL with Entra authentication); the connection strings then carry no password.
    /// </summary>
    public bool UseManagedIdentity { get; set; }

    /// <summary>The client id of the user-assigned managed identity to sign in as; empty for the system-assigned one.</summary>
    public string? ManagedIdentityClientId { get; set; }

    /// <summary>Apply schema migrations at start (under an advisory lock, so many instances may start at once).</summary>
    public bool MigrateOnStart { get; set; } = true;

    public IEnumerable<ValidationResult> Validate(ValidationContext validationContext)
    {
        foreach (var (name, value) in new[] { (nameof(ConnectionString), ConnectionString), (nameof(ReplicaConnectionString), ReplicaConnectionString) })
        {
            if (Problem(value) is { } problem)
            {
                yield return new ValidationResult(problem, [name]);
            }
            else if (UseManagedIdentity && HasPassword(value))
            {
                yield return new ValidationResult(
                    $"carries a password, but Postgres:UseManagedIdentity is true (the password is an Entra token then); remove Password= from it", [name]);
            }
        }
    }

    private static bool HasPassword(string? connectionString) =>
        !string.IsNullOrWhiteSpace(connectionString) && !string.IsNullOrEmpty(new NpgsqlConnectionStringBuilder(connectionString).Password);

    private static string? Problem(string? connectionString)
    {
        if (string.IsNullOrWhiteSpace(connectionString))
        {
            return null;
        }

        NpgsqlConnectionStringBuilder builder;
        try
        {
            builder = new NpgsqlConnectionStringBuilder(connectionString);
        }
        catch (ArgumentException ex)
        {
            return $"not a valid Npgsql connection string: {ex.Message}";
        }

        var attributes = builder.TargetSessionAttributes;
        return attributes is not null && !attributes.Equals("any", StringComparison.OrdinalIgnoreCase) && builder.Host?.Contains(',', StringComparison.Ordinal) != true
            ? $"Target Session Attributes={attributes} needs several hosts (Host=primary,replica)"
            : null;
    }
}
