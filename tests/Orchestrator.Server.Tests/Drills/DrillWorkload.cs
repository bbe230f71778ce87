using System.Net;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using Npgsql;
using Orchestrator.Server.Tests.Infrastructure;

namespace Orchestrator.Server.Tests.Drills;

/// <summary>
/// What every drill puts in flight: a Server of its own, 20 three-step LLM runs against the fake provider (each call
/// takes <see cref="Latency"/>), and the measurements the recovery table speaks of — when steps progress again, when
/// every run has completed, which completed steps were lost or bought twice.
/// </summary>
public sealed partial class DrillWorkload : IAsyncDisposable
{
    public const int Runs = 20;
    public const int Steps = 3;
    public static readonly TimeSpan Latency = TimeSpan.FromSeconds(1);

    private readonly List<string> runIds = [];

    private DrillWorkload(string database, string taskHub, FakeOpenAiServer llm, ServerProcess server)
    {
        Database = database;
        TaskHub = taskHub;
        Llm = llm;
        Server = server;
    }

    /// <summary>The drill's own database, reached directly (never through a fault the drill injects).</summary>
    public string Database { get; }

    public string DatabaseName => new NpgsqlConnectionStringBuilder(Database).Database!;

    public string TaskHub { get; }

    public FakeOpenAiServer Llm { get; }

    public ServerProcess Server { get; }

    public string Tag { get; } = Definitions.Tag();

    public IReadOnlyList<string> RunIds => runIds;

    /// <summary>
    /// Starts the fake LLM and a Server. <paramref name="serverPostgres"/> and <paramref name="serverLlm"/> are what the
    /// Server is given (a fault proxy, a multi-host string); the drill itself reads <paramref name="database"/>.
    /// </summary>
    public static async Task<DrillWorkload> StartAsync(
        string database, string? serverPostgres = null, Func<string, string>? serverLlm = null, IReadOnlyDictionary<string, string?>? settings = null, string? taskHub = null)
    {
        var llm = await FakeOpenAiServer.StartAsync();
        var hub = taskHub ?? "drill" + Guid.NewGuid().ToString("N")[..10];
        var server = new ServerProcess(serverPostgres ?? database, hub, serverLlm?.Invoke(llm.BaseUrl) ?? llm.BaseUrl, settings);
        var workload = new DrillWorkload(database, hub, llm, server);
        llm.Delay("DRILL-" + workload.Tag, Latency);
        await server.StartAsync(TimeSpan.FromSeconds(120));
        return workload;
    }

    /// <summary>
    /// The common start of a database drill: a new database on the drill cluster, a Server given both hosts, and the
    /// runs in flight (every run past a step, most of them in their next one).
    /// </summary>
    public static async Task<DrillWorkload> InFlightAsync(DrillCluster cluster, string prefix, IReadOnlyDictionary<string, string?>? settings = null)
    {
        var database = await cluster.NewDatabaseAsync(prefix);
        var drill = await StartAsync(cluster.Direct(database), DrillCluster.ForApplication(database), settings: settings);
        await drill.StartRunsAsync();
        await drill.WaitForCompletedStepsAsync(Runs);
        return drill;
    }

    public JsonObject Definition()
    {
        var steps = new JsonArray();
        for (var i = 1; i <= Steps; i++)
        {
            var previous = i == 1 ? "{{ input.text }}" : $"{{{{ steps.s{i - 1}.output }}}}";
            steps.Add(new JsonObject { ["id"] = $"s{i}", ["type"] = "llm", ["prompt"] = $"DRILL-{Tag} run={{{{ input.run }}}} step=s{i} from: {previous}" });
        }

        return new JsonObject { ["name"] = "drill", ["version"] = 1, ["steps"] = steps };
    }

    public async Task StartRunsAsync()
    {
        using var api = new OrchestratorApi(Server.BaseAddress);
        for (var i = 0; i < Runs; i++)
        {
            runIds.Add(await api.StartAsync(Definition(), new JsonObject { ["run"] = $"r{i:00}", ["text"] = $"drill document {i}" }));
        }
    }

    /// <summary>Waits until at least <paramref name="count"/> steps have completed (in flight: between steps).</summary>
    public async Task WaitForCompletedStepsAsync(int count, TimeSpan? timeout = null)
    {
        var deadline = DateTimeOffset.UtcNow + (timeout ?? TimeSpan.FromSeconds(120));
        while (DateTimeOffset.UtcNow < deadline)
        {
            if ((await CountsAsync()).CompletedSteps >= count)
            {
                return;
            }

            await Task.Delay(100);
        }

        throw new TimeoutException($"{count} completed steps were not reached:\n{Server.Output}");
    }

    /// <summary>The steps completed now (taken when the fault is injected).</summary>
    public async Task<HashSet<(string Run, string Step)>> CompletedStepsAsync(string? database = null)
    {
        await using var connection = await OpenAsync(database ?? Database);
        await using var command = new NpgsqlCommand("SELECT run_id, step_id FROM workflow_steps WHERE status = 'Completed'", connection);
        await using var reader = await command.ExecuteReaderAsync();
        var steps = new HashSet<(string, string)>();
        while (await reader.ReadAsync())
        {
            steps.Add((reader.GetString(0), reader.GetString(1)));
        }

        return steps;
    }

    public async Task<(int CompletedSteps, int CompletedRuns, int FailedRuns)> CountsAsync(string? database = null)
    {
        await using var connection = await OpenAsync(database ?? Database);
        await using var command = new NpgsqlCommand(
            """
            SELECT (SELECT count(*) FROM workflow_steps WHERE status = 'Completed'),
                   (SELECT count(*) FROM workflow_states WHERE status = 'Completed'),
                   (SELECT count(*) FROM workflow_states WHERE status = 'Failed')
            """, connection);
        await using var reader = await command.ExecuteReaderAsync();
        await reader.ReadAsync();
        return ((int)reader.GetInt64(0), (int)reader.GetInt64(1), (int)reader.GetInt64(2));
    }

    /// <summary>
    /// From <paramref name="from"/> (the fault cleared, or injected for faults that clear themselves): when a step
    /// completed beyond <paramref name="baseline"/>, and when every run had completed. Database errors while it polls
    /// (the database may still be coming back) count as "not yet".
    /// </summary>
    public async Task<(TimeSpan? FirstProgress, TimeSpan? AllCompleted)> MeasureRecoveryAsync(DateTimeOffset from, int baseline, TimeSpan timeout, string? database = null)
    {
        TimeSpan? first = null;
        var deadline = from + timeout;
        while (DateTimeOffset.UtcNow < deadline)
        {
            try
            {
                var (steps, runs, failed) = await CountsAsync(database);
                var now = DateTimeOffset.UtcNow - from;
                if (first is null && steps > baseline)
                {
                    first = now;
                }

                if (runs == Runs)
                {
                    return (first ?? now, now);
                }

                if (failed > 0)
                {
                    return (first, null);
                }
            }
            catch (Exception ex) when (ex is NpgsqlException or TimeoutException or IOException)
            {
            }

            await Task.Delay(200);
        }

        return (first, null);
    }

    /// <summary>The LLM calls per (run, step) as the fake provider received them.</summary>
    public Dictionary<(string Run, string Step), int> CallsPerStep() =>
        Llm.Containing("DRILL-" + Tag)
            .Select(r => StepMarker().Match(r.Prompt))
            .Where(m => m.Success)
            .GroupBy(m => (m.Groups[1].Value, m.Groups[2].Value))
            .ToDictionary(g => g.Key, g => g.Count());

    /// <summary>Completed steps (at the fault) that the provider was asked for again.</summary>
    public int Rebought(IReadOnlySet<(string Run, string Step)> completedAtFault, IReadOnlyDictionary<string, string> runOfId)
    {
        var calls = CallsPerStep();
        return completedAtFault.Count(s => runOfId.TryGetValue(s.Run, out var run) && calls.GetValueOrDefault((run, s.Step)) > 1);
    }

    /// <summary>
    /// Every step was asked of the provider exactly once: also the steps in flight at the fault, whose replies arrived
    /// while the database was away and were kept until it came back. (Not for faults that kill the Server: the step it
    /// was running is bought again, by design.)
    /// </summary>
    public void AssertEveryStepCalledOnce()
    {
        var calls = CallsPerStep();
        Assert.Equal(Runs * Steps, calls.Count);
        Assert.All(calls, c => Assert.True(c.Value == 1, $"{c.Key.Run} {c.Key.Step} was asked {c.Value} times"));
    }

    /// <summary>Run id → the drill's run label (r00…r19), from the stored inputs.</summary>
    public async Task<Dictionary<string, string>> RunLabelsAsync(string? database = null)
    {
        await using var connection = await OpenAsync(database ?? Database);
        await using var command = new NpgsqlCommand("SELECT id, input->>'run' FROM workflow_states", connection);
        await using var reader = await command.ExecuteReaderAsync();
        var labels = new Dictionary<string, string>();
        while (await reader.ReadAsync())
        {
            labels[reader.GetString(0)] = reader.GetString(1);
        }

        return labels;
    }

    /// <summary>
    /// What every drill asserts at the end: every run Completed in PostgreSQL and in its durable status, each with its
    /// three steps recorded once and completed, and no run Failed.
    /// </summary>
    public async Task AssertAllCompletedAndAgreeingAsync(string? database = null)
    {
        await using (var connection = await OpenAsync(database ?? Database))
        {
            await using var command = new NpgsqlCommand(
                """
                SELECT r.id, r.status, count(s.*) FILTER (WHERE s.status = 'Completed'), count(s.*)
                  FROM workflow_states r LEFT JOIN workflow_steps s ON s.run_id = r.id
                 GROUP BY r.id, r.status
                """, connection);
            await using var reader = await command.ExecuteReaderAsync();
            var rows = new List<(string Id, string Status, long Completed, long Rows)>();
            while (await reader.ReadAsync())
            {
                rows.Add((reader.GetString(0), reader.GetString(1), reader.GetInt64(2), reader.GetInt64(3)));
            }

            Assert.Equal(runIds.Order(), rows.Select(r => r.Id).Order());
            Assert.All(rows, r => Assert.True(r.Status == "Completed", $"run {r.Id} is {r.Status}"));
            Assert.All(rows, r => Assert.True(r.Completed == Steps && r.Rows == Steps, $"run {r.Id} has {r.Completed} completed of {r.Rows} step rows"));
        }

        // The orchestration completes once it has the result of the activity that recorded the end in PostgreSQL, so
        // the durable status may trail by a moment (longer while the task hub storage catches up after a fault).
        using var admin = new OrchestratorApi(Server.BaseAddress, TestEnvironment.AdminToken);
        var deadline = DateTimeOffset.UtcNow + TimeSpan.FromSeconds(90);
        foreach (var id in runIds)
        {
            while (true)
            {
                var (status, body, _) = await admin.GetAsync($"/runtime/webhooks/durabletask/instances/{id}");
                var runtime = body?["runtimeStatus"]?.GetValue<string>();
                if (status == HttpStatusCode.OK && runtime == "Completed")
                {
                    break;
                }

                Assert.True(DateTimeOffset.UtcNow < deadline && runtime is null or "Running" or "Pending", $"durable status of {id}: {status} {body}");
                await Task.Delay(500);
            }
        }
    }

    /// <summary>The Server's log is kept in .infra/drill-logs/{task hub}.log for whoever reads a failed drill.</summary>
    public async ValueTask DisposeAsync()
    {
        await Server.DisposeAsync();
        var logs = Path.Combine(TestEnvironment.RepositoryRoot, ".infra", "drill-logs");
        Directory.CreateDirectory(logs);
        await File.WriteAllTextAsync(Path.Combine(logs, TaskHub + ".log"), Server.Output);
        await Llm.DisposeAsync();
    }

    private static async Task<NpgsqlConnection> OpenAsync(string database)
    {
        var connection = new NpgsqlConnection(new NpgsqlConnectionStringBuilder(database) { Timeout = 3, CommandTimeout = 5, Pooling = false }.ConnectionString);
        await connection.OpenAsync();
        return connection;
    }

    [GeneratedRegex(@"run=(r\d+) step=(s\d+)")]
    private static partial Regex StepMarker();
}
