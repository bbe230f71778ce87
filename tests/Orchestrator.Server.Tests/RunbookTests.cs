using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using Npgsql;
using Orchestrator.Server.Tests.Infrastructure;

namespace Orchestrator.Server.Tests;

/// <summary>
/// Every command of the operator's runbook (docs/runbook.md) that talks to the product or its database, run as
/// written with curl, psql and pg_isready against a Server on localhost:8080 and the runbook's database `workflows`.
/// With auth on, commands to protected routes get the admin token header (the README shows that form); with auth off
/// (what scripts/run.sh does on a developer's machine) they run verbatim.
/// </summary>
[Collection(EndToEnd.Name)]
public sealed partial class RunbookTests : IAsyncLifetime
{
    private const int RunbookPort = 8080;
    private const string AdminToken = "runbook-admin-token-0123456789";

    /// <summary>Commands in the runbook that are not the product's: other hosts, or another tool's API.</summary>
    private static readonly string[] NotOurs = ["example.com", "prometheus:9090"];

    private static readonly string Workflows =
        new NpgsqlConnectionStringBuilder(TestEnvironment.PostgresAdmin) { Database = "workflows" }.ConnectionString;

    private FakeOpenAiServer llm = null!;

    public async Task InitializeAsync() => llm = await FakeOpenAiServer.StartAsync();

    public async Task DisposeAsync() => await llm.DisposeAsync();

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task Every_runbook_command_that_talks_to_the_product_works_as_written(bool authOn)
    {
        Assert.False(PortInUse(RunbookPort), $"port {RunbookPort} is in use (a Server left by scripts/run.sh? stop it with scripts/run.sh --stop)");
        var commands = RunbookCommands();
        Assert.True(commands.Count >= 14, $"expected the runbook's commands, found {commands.Count}");

        var settings = new Dictionary<string, string?>
        {
            ["ASPNETCORE_URLS"] = null, // the Server's own default: http://localhost:8080
            ["Auth__AdminToken"] = null,
            ["Auth__ApiKeys__" + TestEnvironment.ApiKeyName] = null,
        };
        if (authOn)
        {
            settings["ADMIN_TOKEN"] = AdminToken;
        }
        else
        {
            settings["Auth__Disabled"] = "true";
        }

        await using var server = new ServerProcess(Workflows, "runbook" + Guid.NewGuid().ToString("N")[..8], llm.BaseUrl, settings, RunbookPort);
        await server.StartAsync();
        using var api = new OrchestratorApi(new Uri($"http://localhost:{RunbookPort}"), authOn ? AdminToken : null);

        var runsBefore = await CountRunsAsync();
        var made = 0;
        var tag = Definitions.Tag();
        await api.WaitForStatusAsync(await api.StartAsync(Definitions.Chain(tag, 1), new JsonObject { ["text"] = "done" }), "Completed");
        llm.Fail($"STEP1-{tag}f", 400, "rejected");
        await api.WaitForStatusAsync(await api.StartAsync(Definitions.Chain(tag + "f", 1), new JsonObject { ["text"] = "bad" }), "Failed");
        made += 2;

        var ran = new List<string>();
        try
        {
            made += await RunAllAsync(commands, api, server, authOn, tag, runsBefore + made, ran);
        }
        finally
        {
            // The runbook's database is shared with a developer's own Server: never leave it in maintenance mode.
            await api.PostAsync("/admin/maintenance/disable", null);
        }

        Assert.Equal(commands.Count, ran.Count);
        Assert.Contains(ran, c => c.Contains("workflow_states", StringComparison.Ordinal));
        Assert.Contains(ran, c => c.Contains("maintenance/disable", StringComparison.Ordinal));
    }

    private static async Task<int> RunAllAsync(
        List<(int Block, string Text)> commands, OrchestratorApi api, ServerProcess server, bool authOn, string tag, long runsSoFar, List<string> ran)
    {
        var made = 0;
        foreach (var block in commands.GroupBy(c => c.Block))
        {
            // Each block that names <id> gets a run of its own, stuck waiting for an approval.
            string? id = null;
            if (block.Any(c => c.Text.Contains("<id>", StringComparison.Ordinal)))
            {
                id = await api.StartAsync(Definitions.Waiting(tag + block.Key), new JsonObject { ["text"] = "stuck" });
                made++;
                await api.WaitForWaitingAsync(id);
            }

            foreach (var command in block)
            {
                var text = command.Text.Replace("<id>", id, StringComparison.Ordinal);
                if (authOn && NeedsToken(text) && !text.Contains("Authorization", StringComparison.Ordinal))
                {
                    text = Regex.Replace(text, "^curl ", "curl -H \"Authorization: Bearer $ADMIN_TOKEN\" ");
                }

                var stdin = text.StartsWith("psql", StringComparison.Ordinal) && !text.Contains(" -c ", StringComparison.Ordinal) ? "\\conninfo\n" : null;
                var (exit, output) = await BashAsync(text, stdin);
                var what = $"`{text}` (exit {exit}):\n{output}\n--- server:\n{server.Output}";
                Assert.True(exit == 0, what);
                made += await CheckAsync(command.Text, output, id, runsSoFar + made, api, what);
                ran.Add(command.Text);
            }
        }

        return made;
    }

    /// <summary>The assertions for a command's output; returns how many runs the command (or the check) started.</summary>
    private static async Task<int> CheckAsync(string command, string output, string? id, long expectedRuns, OrchestratorApi api, string what)
    {
        switch (command)
        {
            case var c when c.Contains("/metrics | grep error_total", StringComparison.Ordinal):
                Assert.True(Sample(output, "llm_orchestrator_workflow_error_total") >= 1, what);
                Assert.Contains("llm_orchestrator_step_error_total", output, StringComparison.Ordinal);
                return 0;
            case var c when c.Contains("/metrics | grep db_pool", StringComparison.Ordinal):
                Assert.Equal(50, Sample(output, "llm_orchestrator_db_pool_max_connections"));
                Assert.True(Sample(output, "llm_orchestrator_db_pool_connections{state=\"idle\"}") + Sample(output, "llm_orchestrator_db_pool_connections{state=\"busy\"}") >= 1, what);
                return 0;
            case var c when c.Contains("/metrics | grep circuit_breaker", StringComparison.Ordinal):
                Assert.Equal(0, Sample(output, "llm_orchestrator_circuit_breaker_state{name=\"default\"}"));
                return 0;
            case var c when c.EndsWith("/health", StringComparison.Ordinal):
                Assert.Contains(JsonNode.Parse(output)!["status"]!.GetValue<string>(), new[] { "healthy", "degraded" });
                return 0;
            case var c when c.Contains("/cancel", StringComparison.Ordinal):
                Assert.Equal("Cancelled", JsonNode.Parse(output)!["status"]!.GetValue<string>());
                Assert.Equal(id, JsonNode.Parse(output)!["id"]!.GetValue<string>());
                return 0;
            case var c when c.Contains("/retry", StringComparison.Ordinal):
                var retry = JsonNode.Parse(output)!;
                Assert.NotEqual(id, retry["id"]!.GetValue<string>());
                Assert.Contains("/runtime/webhooks/durabletask/instances/", retry["statusQueryGetUri"]!.GetValue<string>(), StringComparison.Ordinal);
                return 1;
            case var c when c.Contains("/api/v1/workflows/<id>", StringComparison.Ordinal):
                Assert.Equal(id, JsonNode.Parse(output)!["id"]!.GetValue<string>());
                return 0;
            case var c when c.Contains("/admin/circuit-breaker/reset", StringComparison.Ordinal):
                var reset = JsonNode.Parse(output)!["reset"]?.AsArray() ?? throw new Xunit.Sdk.XunitException($"{what}: no 'reset' in {output}");
                Assert.Contains("default", reset.Select(n => n!.GetValue<string>()));
                return 0;
            case var c when c.Contains("/admin/maintenance/enable", StringComparison.Ordinal):
                Assert.True(JsonNode.Parse(output)!["enabled"]!.GetValue<bool>(), what);
                var (refused, _, response) = await api.PostAsync("/api/v1/workflows", Start());
                Assert.Equal(HttpStatusCode.ServiceUnavailable, refused);
                Assert.NotNull(response.Headers.RetryAfter);
                return 0;
            case var c when c.Contains("/admin/maintenance/disable", StringComparison.Ordinal):
                Assert.False(JsonNode.Parse(output)!["enabled"]!.GetValue<bool>(), what);
                var (accepted, _, _) = await api.PostAsync("/api/v1/workflows", Start());
                Assert.Equal(HttpStatusCode.Accepted, accepted);
                return 1;
            case var c when c.StartsWith("pg_isready", StringComparison.Ordinal):
                Assert.Contains("accepting connections", output, StringComparison.Ordinal);
                return 0;
            case var c when c.Contains("SELECT COUNT(*) FROM workflow_states", StringComparison.Ordinal):
                Assert.Equal(expectedRuns, long.Parse(CountPattern().Match(output).Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture));
                return 0;
            case var c when c.Contains("pg_last_xact_replay_timestamp", StringComparison.Ordinal):
                Assert.Contains("(1 row)", output, StringComparison.Ordinal);
                return 0;
            case var c when c.Contains("pg_stat_replication", StringComparison.Ordinal):
                Assert.Contains("streaming", output, StringComparison.Ordinal);
                return 0;
            case var c when c.StartsWith("psql", StringComparison.Ordinal):
                Assert.Contains("database \"workflows\"", output, StringComparison.Ordinal);
                return 0;
            default:
                Assert.Fail($"no check for runbook command {command}");
                return 0;
        }
    }

    private static JsonObject Start() => new() { ["definition"] = "summarize-classify", ["input"] = new JsonObject { ["text"] = "runbook probe" } };

    private static double Sample(string exposition, string series) =>
        PrometheusText.Has(exposition, series) ? PrometheusText.Value(exposition, series) : double.NaN;

    private static bool NeedsToken(string command) =>
        command.StartsWith("curl", StringComparison.Ordinal) && !Regex.IsMatch(command, @"localhost:8080/(health|metrics)\b");

    /// <summary>The runbook's shell commands that reach the product (curl, psql, pg_isready), block by block, continuations joined.</summary>
    private static List<(int Block, string Text)> RunbookCommands()
    {
        var lines = File.ReadAllLines(Path.Combine(TestEnvironment.RepositoryRoot, "docs", "runbook.md"));
        var commands = new List<(int, string)>();
        var block = -1;
        var inBash = false;
        var pending = "";
        foreach (var raw in lines)
        {
            if (raw.StartsWith("```", StringComparison.Ordinal))
            {
                inBash = !inBash && raw.Trim() == "```bash";
                block += inBash ? 1 : 0;
                continue;
            }

            if (!inBash)
            {
                continue;
            }

            var line = raw.Trim();
            if (line.EndsWith('\\'))
            {
                pending += line[..^1].Trim() + " ";
                continue;
            }

            line = (pending + line).Trim();
            pending = "";
            if (Regex.IsMatch(line, "^(curl|psql|pg_isready) ") && !NotOurs.Any(h => line.Contains(h, StringComparison.Ordinal)))
            {
                commands.Add((block, line));
            }
        }

        return commands;
    }

    private static async Task<(int Exit, string Output)> BashAsync(string command, string? stdin)
    {
        var info = new ProcessStartInfo("bash", ["-c", command])
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = true,
            UseShellExecute = false,
        };
        info.Environment["ADMIN_TOKEN"] = AdminToken;
        // psql over TCP asks for the password; an operator has it in ~/.pgpass, the test passes it this way.
        info.Environment["PGPASSWORD"] = new NpgsqlConnectionStringBuilder(TestEnvironment.PostgresAdmin).Password ?? "postgres";
        using var process = Process.Start(info)!;
        if (stdin is not null)
        {
            await process.StandardInput.WriteAsync(stdin);
        }

        process.StandardInput.Close();
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        await process.WaitForExitAsync(timeout.Token);
        return (process.ExitCode, (await stdout) + (process.ExitCode == 0 ? "" : "\n" + await stderr));
    }

    private static async Task<long> CountRunsAsync()
    {
        await using var connection = new NpgsqlConnection(Workflows);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand("SELECT count(*) FROM workflow_states", connection);
        return (long)(await command.ExecuteScalarAsync())!;
    }

    private static bool PortInUse(int port)
    {
        try
        {
            using var client = new TcpClient();
            client.Connect(IPAddress.Loopback, port);
            return true;
        }
        catch (SocketException)
        {
            return false;
        }
    }

    [GeneratedRegex(@"^\s*(\d+)\s*$", RegexOptions.Multiline)]
    private static partial Regex CountPattern();
}
