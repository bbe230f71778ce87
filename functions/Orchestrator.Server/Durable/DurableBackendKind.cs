namespace Orchestrator.Server.Durable;

/// <summary>Where the Server's task hub keeps its state.</summary>
public enum DurableBackendKind
{
    /// <summary>In the product's own PostgreSQL database (schema <c>durable</c>): one database is all a self-hosted install needs.</summary>
    Postgres,

    /// <summary>In Azure Storage queues, tables and blobs (Azurite locally): what the Functions app uses on Azure.</summary>
    AzureStorage,
}
