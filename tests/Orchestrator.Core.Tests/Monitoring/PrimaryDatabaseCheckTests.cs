using Microsoft.Extensions.Options;
using Npgsql;
using Orchestrator.Core.Incidents;
using Orchestrator.Core.Monitoring;
using Orchestrator.Core.Monitoring.Checks;
using Orchestrator.Core.Tests.Fakes;

namespace Orchestrator.Core.Tests.Monitoring;

/// <summary>The primary answers within the check's timeout, or the check says it is down (runbook: P1).</summary>
public sealed class PrimaryDatabaseCheckTests : IAsyncLifetime
{
    private readonly PostgresDatabase database = new();

    public Task InitializeAsync() => database.InitializeAsync();

    public Task DisposeAsync() => database.DisposeAsync();

    [Fact]
    public async Task A_primary_that_answers_is_clear()
    {
        var reading = Assert.Single(await Check(database.DataSource).EvaluateAsync(default));

        Assert.Equal(PrimaryDatabaseCheck.Key, reading.DedupKey);
        Assert.False(reading.Firing);
        Assert.Equal("yes", reading.Fact("Answered"));
    }

    [Fact]
    public async Task A_primary_refusing_connections_is_down_P1()
    {
        await using var closed = NpgsqlDataSource.Create($"Host=127.0.0.1;Port={Ports.Closed()};Username=postgres;Password=postgres;Database=postgres");

        var reading = Assert.Single(await Check(closed).EvaluateAsync(default));

        Assert.True(reading.Firing);
        Assert.Equal(Severity.P1, reading.Severity);
        Assert.Equal("no", reading.Fact("Answered"));
        Assert.Contains("pg_isready", reading.NextStep, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_primary_that_stops_answering_is_down_once_the_timeout_has_passed()
    {
        await using var relay = new TcpRelay(new NpgsqlConnectionStringBuilder(database.ConnectionString).Port);
        await using var stalled = NpgsqlDataSource.Create(new NpgsqlConnectionStringBuilder(database.ConnectionString) { Port = relay.Port }.ConnectionString);
        relay.Stall();

        var reading = Assert.Single(await Check(stalled).EvaluateAsync(default));

        Assert.True(reading.Firing);
        Assert.Contains("does not answer within 1.0 s", reading.Fact("Error"), StringComparison.Ordinal);
        relay.Resume();
    }

    private static PrimaryDatabaseCheck Check(NpgsqlDataSource source) =>
        new(source, Options.Create(new PrimaryDatabaseMonitorOptions { Timeout = TimeSpan.FromSeconds(1) }), TimeProvider.System);
}
