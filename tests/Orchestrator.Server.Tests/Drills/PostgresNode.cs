using System.Diagnostics;

namespace Orchestrator.Server.Tests.Drills;

/// <summary>One PostgreSQL server of a drill's cluster, driven the way an operator would: pg_ctl as the postgres user, kill -9.</summary>
public sealed class PostgresNode(string dataDirectory, int port, string logFile)
{
    public string DataDirectory { get; } = dataDirectory;

    public int Port { get; } = port;

    public static string BinDirectory =>
        Directory.GetDirectories("/usr/lib/postgresql").Select(d => Path.Combine(d, "bin")).Where(d => File.Exists(Path.Combine(d, "pg_ctl"))).Order().Last();

    /// <summary>A fast shutdown: every connection is closed, as when the database is stopped for maintenance.</summary>
    public Task StopAsync() => PgCtlAsync($"-D {DataDirectory} -w -t 60 -m fast stop");

    /// <summary>An immediate shutdown (no checkpoint): what is left of the data directory is as after a crash.</summary>
    public Task StopImmediatelyAsync() => PgCtlAsync($"-D {DataDirectory} -w -t 60 -m immediate stop");

    public Task StartAsync() => PgCtlAsync($"-D {DataDirectory} -l {logFile} -o \"-p {Port}\" -w -t 120 start");

    /// <summary>SIGKILL of the postmaster: the server crashes and the next start runs crash recovery.</summary>
    public async Task KillAsync()
    {
        var pid = int.Parse(File.ReadLines(Path.Combine(DataDirectory, "postmaster.pid")).First(), System.Globalization.CultureInfo.InvariantCulture);
        Process.GetProcessById(pid).Kill();
        for (var i = 0; i < 100 && File.Exists($"/proc/{pid}/stat"); i++)
        {
            await Task.Delay(100);
        }

        // The backends see their postmaster gone and exit; wait until none holds the port's socket.
        await Task.Delay(500);
    }

    private async Task PgCtlAsync(string arguments)
    {
        var exit = await Shell.RunAsync("runuser", $"-u postgres -- {Path.Combine(BinDirectory, "pg_ctl")} {arguments}", workingDirectory: "/");
        Assert.True(exit.Code == 0, $"pg_ctl {arguments} exited {exit.Code}: {exit.Output}");
    }
}
