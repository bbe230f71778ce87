namespace Orchestrator.Server.Tests.Infrastructure;

/// <summary>Where a test Server keeps its durable task hub (its <c>Durable:Backend</c> setting).</summary>
public enum DurableBackend
{
    /// <summary>Schema <c>durable</c> in the Server's own database: each fixture's fresh database is its own task hub.</summary>
    Postgres,

    /// <summary>Queues, tables and lease blobs in Azure Storage (Azurite), one task hub per fixture by name.</summary>
    AzureStorage,
}
