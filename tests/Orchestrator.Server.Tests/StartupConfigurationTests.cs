using Orchestrator.Server.Tests.Infrastructure;

namespace Orchestrator.Server.Tests;

/// <summary>
/// The runbook's configuration file: YAML at a path <c>ORCHESTRATOR_CONFIG</c> may move, below environment variables;
/// a bad file or value stops the Server at start with a message naming the file, line or key.
/// </summary>
[Collection(EndToEnd.Name)]
public sealed class StartupConfigurationTests : IDisposable
{
    private readonly string folder = Directory.CreateTempSubdirectory("orch-config-").FullName;

    public void Dispose() => Directory.Delete(folder, recursive: true);

    [Fact]
    public async Task A_bad_value_in_the_YAML_file_stops_the_server_at_start_naming_the_key()
    {
        var file = Write("config.yaml", "Postgres:\n  MaxPoolSize: -1\n");

        await AssertRefusedAsync(new() { ["ORCHESTRATOR_CONFIG"] = file }, "Postgres:MaxPoolSize");
    }

    [Fact]
    public async Task A_malformed_YAML_file_stops_the_server_at_start_naming_the_file_and_the_line()
    {
        var file = Write("config.yaml", "Postgres:\n  MaxPoolSize: 5\n bad: indented one space too little\n");

        await AssertRefusedAsync(new() { ["ORCHESTRATOR_CONFIG"] = file }, file, "line 3");
    }

    [Fact]
    public async Task A_config_file_named_by_ORCHESTRATOR_CONFIG_must_exist()
    {
        var missing = Path.Combine(folder, "missing.yaml");

        await AssertRefusedAsync(new() { ["ORCHESTRATOR_CONFIG"] = missing }, missing);
    }

    [Fact]
    public async Task An_unknown_log_format_stops_the_server_at_start_naming_the_key()
    {
        await AssertRefusedAsync(new() { ["Logging__Format"] = "xml" }, "Logging:Format");
    }

    [Fact]
    public async Task Bad_provider_settings_stop_the_server_with_every_key_named_and_no_stack_trace()
    {
        await AssertRefusedAsync(
            new()
            {
                ["Llm__Providers__backup__Kind"] = "bogus",
                ["Llm__Providers__primary__Kind"] = "simulated",
                ["Llm__Providers__primary__Breaker__BreakDuration"] = "00:00:00.010",
            },
            "Llm:Providers:backup:Kind",
            "Llm:Providers:primary:Breaker:BreakDuration");
    }

    [Fact]
    public async Task Bad_settings_in_several_sections_are_all_told_at_once()
    {
        // Both are validated when the host starts, so they reach the process as one AggregateException.
        await AssertRefusedAsync(
            new() { ["Auth__AdminToken"] = "too-short", ["Monitors__ReplicaLag__Schedule"] = "every minute" },
            "Auth:AdminToken",
            "Monitors:ReplicaLag:Schedule");
    }

    [Fact]
    public async Task An_unknown_durable_backend_stops_the_server_at_start_naming_the_key()
    {
        // The configuration binder refuses the value before validation runs; the message must still name the key.
        await AssertRefusedAsync(new() { ["Durable__Backend"] = "Sqlite" }, "Durable:Backend", "Sqlite");
    }

    [Fact]
    public async Task The_Azure_Storage_backend_without_a_storage_connection_string_stops_the_server_naming_the_key()
    {
        await AssertRefusedAsync(
            new() { ["Durable__Backend"] = "AzureStorage", ["Durable__StorageConnectionString"] = "" },
            "Durable:StorageConnectionString",
            "Durable:Backend is AzureStorage");
    }

    [Fact]
    public async Task The_Postgres_backend_starts_with_no_storage_connection_string()
    {
        // What a PostgreSQL-only install looks like: the examples set no storage account at all.
        var database = TestEnvironment.NewDatabase("orch_cfg");
        await using var llm = await FakeOpenAiServer.StartAsync();
        var server = new ServerProcess(database, "cfg" + Guid.NewGuid().ToString("N")[..10], llm.BaseUrl, new Dictionary<string, string?>
        {
            ["Durable__Backend"] = "Postgres",
            ["Durable__StorageConnectionString"] = "",
        });
        try
        {
            await server.StartAsync();
        }
        finally
        {
            await server.DisposeAsync();
            await TestEnvironment.DropDatabaseAsync(database);
        }
    }

    [Fact]
    public async Task An_environment_variable_overrides_the_YAML_file()
    {
        // The same file stops the Server on its own (the first test); the variable wins over it.
        var file = Write("config.yaml", "Postgres:\n  MaxPoolSize: -1\n");
        var database = TestEnvironment.NewDatabase("orch_cfg");
        await using var llm = await FakeOpenAiServer.StartAsync();
        var server = new ServerProcess(database, "cfg" + Guid.NewGuid().ToString("N")[..10], llm.BaseUrl, new Dictionary<string, string?>
        {
            ["ORCHESTRATOR_CONFIG"] = file,
            ["Postgres__MaxPoolSize"] = "5",
        });
        try
        {
            await server.StartAsync();
        }
        finally
        {
            await server.DisposeAsync();
            await TestEnvironment.DropDatabaseAsync(database);
        }
    }

    private string Write(string name, string text)
    {
        var path = Path.Combine(folder, name);
        File.WriteAllText(path, text);
        return path;
    }

    /// <summary>The Server with settings that must stop it before it touches the database or the task hub.</summary>
    private static async Task AssertRefusedAsync(Dictionary<string, string?> extra, params string[] named)
    {
        await using var server = new ServerProcess("Host=127.0.0.1;Port=1;Database=unused", "unused", "http://127.0.0.1:1/v1", extra);
        await server.AssertRefusedAsync(named);
    }
}
