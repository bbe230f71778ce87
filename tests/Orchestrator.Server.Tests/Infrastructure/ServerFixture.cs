using System.Net;
using System.Text.Json.Nodes;
using Npgsql;

namespace Orchestrator.Server.Tests.Infrastructure;

/// <summary>One fake LLM, one fresh database, one task hub and one Server process, shared by a test class.</summary>
public class ServerFixture : IAsyncLifetime
{
    private const string ContinuationHeader = "x-ms-continuation-token";

    public FakeOpenAiServer Llm { get; private set; } = null!;

    public ServerProcess Server { get; private set; } = null!;

    public OrchestratorApi Api { get; private set; } = null!;

    public string Database { get; } = TestEnvironment.NewDatabase("orch_e2e");

    public string TaskHub { get; } = "e2e" + Guid.NewGuid().ToString("N")[..10];

    public virtual async Task InitializeAsync()
    {
        Llm = await FakeOpenAiServer.StartAsync();
        Server = new ServerProcess(Database, TaskHub, Llm.BaseUrl, Settings);
        await Server.StartAsync();
        Api = new OrchestratorApi(Server.BaseAddress);
    }

    /// <summary>Settings a derived fixture gives its Server (a null value removes a default one).</summary>
    protected virtual IReadOnlyDictionary<string, string?>? Settings => null;

    public virtual async Task DisposeAsync()
    {
        Api?.Dispose();
        if (Server is not null)
        {
            await Server.DisposeAsync();
        }

        if (Llm is not null)
        {
            await Llm.DisposeAsync();
        }

        await TestEnvironment.DropDatabaseAsync(Database);
    }

    public async Task<long> ScalarAsync(string sql, params (string Name, object Value)[] parameters)
    {
        await using var connection = new NpgsqlConnection(Database);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand(sql, connection);
        foreach (var (name, value) in parameters)
        {
            command.Parameters.AddWithValue(name, value);
        }

        return Convert.ToInt64(await command.ExecuteScalarAsync(), System.Globalization.CultureInfo.InvariantCulture);
    }

    /// <summary>What a rejected request must leave unchanged: rows in both tables and instances in the task hub.</summary>
    public async Task<StoredCounts> StoredCountsAsync()
    {
        var runs = await ScalarAsync("SELECT count(*) FROM workflow_states");
        var steps = await ScalarAsync("SELECT count(*) FROM workflow_steps");
        var instances = await DurableInstanceCountAsync();
        var adminRows = await ScalarAsync("SELECT (SELECT count(*) FROM admin_audit) + (SELECT count(*) FROM settings) + (SELECT count(*) FROM circuit_breakers)");
        return new StoredCounts(runs, steps, instances, adminRows);
    }

    /// <summary>
    /// Every instance in the task hub, in any status, counted through the Server's Durable HTTP API (page by page), so
    /// the count means the same on either durable backend.
    /// </summary>
    public async Task<int> DurableInstanceCountAsync()
    {
        var count = 0;
        string? continuation = null;
        do
        {
            using var request = new HttpRequestMessage(HttpMethod.Get, "/runtime/webhooks/durabletask/instances?top=1000&showInput=false");
            if (continuation is not null)
            {
                request.Headers.Add(ContinuationHeader, continuation);
            }

            using var response = await Api.Http.SendAsync(request);
            var body = await response.Content.ReadAsStringAsync();
            Assert.True(response.StatusCode == HttpStatusCode.OK, $"listing the task hub's instances answered {response.StatusCode}: {body}");
            count += JsonNode.Parse(body)!.AsArray().Count;
            continuation = response.Headers.TryGetValues(ContinuationHeader, out var values) ? values.SingleOrDefault() : null;
        }
        while (!string.IsNullOrEmpty(continuation));

        return count;
    }

    public async Task<List<Dictionary<string, object?>>> RowsAsync(string sql, params (string Name, object Value)[] parameters)
    {
        await using var connection = new NpgsqlConnection(Database);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand(sql, connection);
        foreach (var (name, value) in parameters)
        {
            command.Parameters.AddWithValue(name, value);
        }

        await using var reader = await command.ExecuteReaderAsync();
        var rows = new List<Dictionary<string, object?>>();
        while (await reader.ReadAsync())
        {
            var row = new Dictionary<string, object?>();
            for (var i = 0; i < reader.FieldCount; i++)
            {
                row[reader.GetName(i)] = reader.IsDBNull(i) ? null : reader.GetValue(i);
            }

            rows.Add(row);
        }

        return rows;
    }
}
