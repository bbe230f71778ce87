using System.Net.Sockets;
using Microsoft.DurableTask;
using Npgsql;
using Orchestrator.Core.Llm;
using Orchestrator.Core.Resilience;
using Orchestrator.Core.Templates;

namespace Orchestrator.Core.Tests.Resilience;

/// <summary>
/// What is waited out and what fails at once: a database failover or restart delays a step, a broken query or a
/// rejected request fails it without burning the outage window.
/// </summary>
public sealed class DependencyFailuresTests
{
    [Theory]
    [InlineData("57P01")] // admin_shutdown: the server is stopping
    [InlineData("57P03")] // cannot_connect_now: the server is starting up
    [InlineData("25006")] // read_only_sql_transaction: connected to a standby during a failover
    [InlineData("53300")] // too_many_connections
    public void A_postgres_error_a_restart_or_failover_produces_is_transient(string sqlState) =>
        Assert.True(DependencyFailures.IsTransientDatabase(Postgres(sqlState)));

    [Theory]
    [InlineData("23505")] // unique_violation
    [InlineData("42601")] // syntax_error
    public void A_postgres_error_of_the_query_itself_is_not_transient(string sqlState) =>
        Assert.False(DependencyFailures.IsTransientDatabase(Postgres(sqlState)));

    [Fact]
    public void A_connection_level_npgsql_failure_is_transient() =>
        Assert.True(DependencyFailures.IsTransientDatabase(
            new NpgsqlException("Failed to connect to 127.0.0.1:5432", new SocketException((int)SocketError.ConnectionRefused))));

    [Fact]
    public void Timeouts_and_broken_sockets_are_transient()
    {
        Assert.True(DependencyFailures.IsTransientDatabase(new TimeoutException("Timeout during reading attempt")));
        Assert.True(DependencyFailures.IsTransientDatabase(new IOException("Unable to read data from the transport connection")));
        Assert.True(DependencyFailures.IsTransientDatabase(new SocketException((int)SocketError.ConnectionReset)));
    }

    [Fact]
    public void A_bug_in_our_own_code_is_not_transient() =>
        Assert.False(DependencyFailures.IsTransientDatabase(new InvalidOperationException("Connection is not open")));

    [Theory]
    [InlineData(typeof(DependencyUnavailableException))]
    [InlineData(typeof(LlmUnavailableException))]
    [InlineData(typeof(NpgsqlException))]
    [InlineData(typeof(PostgresException))]
    public void An_activity_that_failed_on_an_unavailable_dependency_failed_by_an_outage(Type errorType) =>
        Assert.True(DependencyFailures.IsOutage(Failure(errorType)));

    [Fact]
    public void An_outage_is_found_beneath_a_wrapping_failure() =>
        Assert.True(DependencyFailures.IsOutage(
            Failure(typeof(TaskFailedException), inner: Failure(typeof(AggregateException), inner: Failure(typeof(DependencyUnavailableException))))));

    [Theory]
    [InlineData(typeof(LlmRequestRejectedException))]
    [InlineData(typeof(TemplateException))]
    [InlineData(typeof(InvalidOperationException))]
    public void A_failure_of_the_step_itself_is_not_an_outage(Type errorType) =>
        Assert.False(DependencyFailures.IsOutage(Failure(typeof(TaskFailedException), inner: Failure(errorType))));

    private static PostgresException Postgres(string sqlState) => new("server said no", "FATAL", "FATAL", sqlState);

    private static TaskFailureDetails Failure(Type errorType, TaskFailureDetails? inner = null) =>
        new(errorType.FullName!, $"{errorType.Name} happened", null, inner, null);
}
