using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Orchestrator.Core.Tests.Fakes;

namespace Orchestrator.Durable.Postgres.Tests.Infrastructure;

/// <summary>The PostgreSQL provider's task hub for one test class: a fresh database migrated by the product's migrations, dropped afterwards.</summary>
public sealed class PostgresTaskHub : IAsyncLifetime
{
    private readonly PostgresDatabase database = new();

    /// <summary>The service the tests' client and queries go through (never started as a worker).</summary>
    public PostgresOrchestrationService Client { get; private set; } = null!;

    public async Task InitializeAsync()
    {
        await database.InitializeAsync();
        Client = CreateService("client", TimeSpan.FromSeconds(5), NullLoggerFactory.Instance);
    }

    public PostgresOrchestrationService CreateService(string workerId, TimeSpan lockTimeout, ILoggerFactory loggerFactory, TimeSpan? pollingInterval = null) =>
        new(new PostgresOrchestrationServiceSettings
        {
            DataSource = database.DataSource,
            WorkerId = workerId,
            LockTimeout = lockTimeout,
            MaxPollingInterval = pollingInterval ?? TimeSpan.FromSeconds(1),
            LoggerFactory = loggerFactory,
        });

    public async Task DisposeAsync()
    {
        await Client.DisposeAsync();
        await database.DisposeAsync();
    }
}
