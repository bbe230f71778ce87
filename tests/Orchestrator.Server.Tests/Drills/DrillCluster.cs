using System.Globalization;
using System.Text.RegularExpressions;
using Npgsql;
using Orchestrator.Server.Tests.Infrastructure;

namespace Orchestrator.Server.Tests.Drills;

/// <summary>
/// The drills' own PostgreSQL primary and streaming replica, brought up by the project's scripts in a directory and
/// on ports of their own (.infra/drill, 5452/5453), so a drill may stop, crash, promote or restore them without
/// touching the cluster the rest of the suite uses. Failover, backup and restore go through the operator's scripts.
/// </summary>
public sealed partial class DrillCluster : IAsyncLifetime
{
    private const int Port1 = 5452;
    private const int Port2 = 5453;

    /// <summary>ORCH_DRILL_LONG=1 adds the long variants (a 90 s outage).</summary>
    public static bool Long => Environment.GetEnvironmentVariable("ORCH_DRILL_LONG") == "1";

    public static string Directory { get; } = Path.Combine(TestEnvironment.RepositoryRoot, ".infra", "drill");

    /// <summary>What the scripts are given to act on this pair only.</summary>
    public static IReadOnlyDictionary<string, string> ScriptEnvironment { get; } = new Dictionary<string, string>
    {
        ["ORCH_INFRA_DIR"] = Directory,
        ["ORCH_INFRA_PG_PORT"] = Port1.ToString(CultureInfo.InvariantCulture),
        ["ORCH_INFRA_PG_REPLICA_PORT"] = Port2.ToString(CultureInfo.InvariantCulture),
    };

    public PostgresNode Primary { get; private set; } = null!;

    public PostgresNode Replica { get; private set; } = null!;

    public async Task InitializeAsync()
    {
        await ScriptAsync("infra-up.sh", "--postgres-only");
        await RefreshAsync();
    }

    public Task DisposeAsync() => ScriptAsync("infra-down.sh", "--purge");

    /// <summary>Runs one of the operator's scripts on this pair; it must succeed.</summary>
    public static async Task<string> ScriptAsync(string script, string arguments = "")
    {
        var (code, output) = await Shell.RunAsync("bash", $"scripts/{script} {arguments}", ScriptEnvironment, timeout: TimeSpan.FromMinutes(5));
        Assert.True(code == 0, $"scripts/{script} {arguments} exited {code}:\n{output}");
        return output;
    }

    /// <summary>Which node is the primary now, from <c>scripts/failover.sh status</c>.</summary>
    public async Task RefreshAsync()
    {
        var status = await ScriptAsync("failover.sh", "status");
        var nodes = status.Split('\n').Select(line => StatusLine().Match(line)).Where(m => m.Success)
            .Select(m => (Role: m.Groups[3].Value, Node: new PostgresNode(m.Groups[4].Value, int.Parse(m.Groups[2].Value, CultureInfo.InvariantCulture),
                Path.Combine(Path.GetDirectoryName(m.Groups[4].Value)!, "pg-log", $"drill-{m.Groups[1].Value}.log"))))
            .ToList();
        Assert.True(nodes.Count == 2, "failover.sh status:\n" + status);
        Primary = nodes.FirstOrDefault(n => n.Role == "primary").Node ?? nodes[0].Node;
        Replica = nodes.First(n => !ReferenceEquals(n.Node, Primary)).Node;
    }

    public string Direct(string database) =>
        new NpgsqlConnectionStringBuilder { Host = "127.0.0.1", Port = Primary.Port, Username = "postgres", Password = "postgres", Database = database }.ConnectionString;

    /// <summary>What the application is given: both nodes, the primary chosen by Npgsql (DESIGN.md), in a fixed order.</summary>
    public static string ForApplication(string database) =>
        $"Host=127.0.0.1:{Port1},127.0.0.1:{Port2};Database={database};Username=postgres;Password=postgres;Target Session Attributes=primary";

    public async Task<string> NewDatabaseAsync(string prefix)
    {
        var name = $"{prefix}_{Guid.NewGuid():N}"[..30];
        // Unpooled: a drill before this one may have crashed the server under a pooled connection.
        await using var connection = new NpgsqlConnection(Direct("postgres") + ";Pooling=false");
        await connection.OpenAsync();
        await using var create = new NpgsqlCommand($"CREATE DATABASE \"{name}\"", connection);
        await create.ExecuteNonQueryAsync();
        return name;
    }

    [GeneratedRegex(@"^(pg-\S+)\s+(\d+)\s+(\S+)\s.*\((/[^)]+)\)\s*$")]
    private static partial Regex StatusLine();
}
