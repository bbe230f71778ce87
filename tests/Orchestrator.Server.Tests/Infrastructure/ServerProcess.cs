using Orchestrator.Server.Durable;
using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Runtime.InteropServices;
using Orchestrator.Core.Tests.Hosting;

namespace Orchestrator.Server.Tests.Infrastructure;

/// <summary>
/// The Server run as its own OS process (as an operator runs it), so a test can kill it with SIGKILL and start it
/// again on the same database, task hub and worker id. Its durable backend is <see cref="TestEnvironment.DurableBackend"/>;
/// on Postgres the task hub lives in the database the Server is given.
/// </summary>
public sealed class ServerProcess : IAsyncDisposable
{
    private readonly Dictionary<string, string?> environment;
    private readonly ConcurrentQueue<string> output = new();
    private readonly ConcurrentQueue<string> standardOutput = new();
    private Process? process;

    /// <summary>A Server on a free port; <paramref name="extra"/> adds or overrides settings, and a null value removes one.</summary>
    public ServerProcess(string postgres, string taskHub, string llmBaseUrl, IReadOnlyDictionary<string, string?>? extra = null, int? port = null)
    {
        Port = port ?? FreePort();
        environment = new Dictionary<string, string?>
        {
            ["ASPNETCORE_URLS"] = $"http://127.0.0.1:{Port}",
            ["ASPNETCORE_ENVIRONMENT"] = "Production",
            ["Postgres__ConnectionString"] = postgres,
            ["Postgres__ReplicaConnectionString"] = TestEnvironment.ReplicaOf(postgres),
            ["Auth__AdminToken"] = TestEnvironment.AdminToken,
            ["Auth__ApiKeys__" + TestEnvironment.ApiKeyName] = TestEnvironment.ApiKey,
            ["Durable__Backend"] = TestEnvironment.DurableBackend.ToString(),
            ["Durable__StorageConnectionString"] = TestEnvironment.DurableBackend == DurableBackendKind.AzureStorage ? TestEnvironment.Azurite : TestEnvironment.UnreachableStorage,
            ["Durable__TaskHubName"] = taskHub,
            ["Durable__WorkerId"] = "e2e-" + taskHub,
            // The name its step leases carry: this logical Server's own (two Servers of one cluster share the worker id
            // above), and the same across a restart of it, so a restarted Server releases its predecessor's leases.
            ["Instance__Id"] = $"e2e-{taskHub}-{Guid.NewGuid():N}"[..40],
            ["Llm__Provider"] = "openai",
            ["Llm__Endpoint"] = llmBaseUrl,
            ["Llm__ApiKey"] = "test-key",
            ["Llm__Model"] = "fake-model",
            ["Logging__LogLevel__Default"] = "Information",
            ["Logging__LogLevel__Microsoft.AspNetCore"] = "Warning",
            ["Logging__LogLevel__DurableTask"] = "Warning",
            ["Logging__LogLevel__Azure"] = "Warning",
        };
        foreach (var (key, value) in extra ?? new Dictionary<string, string?>())
        {
            environment[key] = value;
        }
    }

    public int Port { get; }

    public Uri BaseAddress => new($"http://127.0.0.1:{Port}");

    public string Output => string.Join('\n', output);

    /// <summary>The lines the Server wrote to stdout alone (its log lines), in order.</summary>
    public IReadOnlyList<string> StandardOutput => standardOutput.ToArray();

    public int? ProcessId => process?.Id;

    public static string ServerAssembly
    {
        get
        {
            var configuration = new DirectoryInfo(AppContext.BaseDirectory).Parent!.Name; // bin/<Configuration>/net10.0/
            var path = Path.Combine(TestEnvironment.RepositoryRoot, "functions", "Orchestrator.Server", "bin", configuration, "net10.0", "Orchestrator.Server.dll");
            return File.Exists(path) ? path : throw new FileNotFoundException("Build the Server first", path);
        }
    }

    /// <summary>Starts the Server and waits until <paramref name="readyPath"/> answers 200.</summary>
    public async Task StartAsync(TimeSpan? timeout = null, string readyPath = "/health")
    {
        Launch();
        using var http = new HttpClient { BaseAddress = BaseAddress, Timeout = TimeSpan.FromSeconds(5) };
        var deadline = DateTimeOffset.UtcNow + (timeout ?? TimeSpan.FromSeconds(90));
        while (DateTimeOffset.UtcNow < deadline)
        {
            if (process!.HasExited)
            {
                throw new InvalidOperationException($"The Server exited with code {process.ExitCode}:\n{Output}");
            }

            try
            {
                using var response = await http.GetAsync(readyPath);
                if (response.StatusCode == HttpStatusCode.OK)
                {
                    return;
                }
            }
            catch (HttpRequestException)
            {
            }
            catch (TaskCanceledException)
            {
            }

            await Task.Delay(200);
        }

        throw new TimeoutException($"The Server did not become healthy in time:\n{Output}");
    }

    /// <summary>Starts the Server expecting it to refuse to start; returns its exit code (null if it is still running after <paramref name="timeout"/>).</summary>
    public async Task<int?> StartExpectingExitAsync(TimeSpan timeout)
    {
        Launch();
        return await WaitForExitAsync(timeout);
    }

    /// <summary>
    /// Starts the Server with settings that must stop it before it touches the database or the task hub, and asserts it
    /// stopped as misconfigured (exit code 78, no unhandled exception) with a message naming each of <paramref name="named"/>.
    /// </summary>
    public async Task AssertRefusedAsync(params string[] named)
    {
        var exitCode = await StartExpectingExitAsync(TimeSpan.FromSeconds(60));
        RefusedStart.AssertRefused(exitCode, Output, named);
    }

    private void Launch()
    {
        var info = new ProcessStartInfo("dotnet", [ServerAssembly])
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            WorkingDirectory = Path.GetDirectoryName(ServerAssembly)!,
        };
        foreach (var (key, value) in environment)
        {
            if (value is null)
            {
                info.Environment.Remove(key);
            }
            else
            {
                info.Environment[key] = value;
            }
        }

        process = Process.Start(info)!;
        process.OutputDataReceived += (_, e) =>
        {
            if (e.Data is not null)
            {
                output.Enqueue(e.Data);
                standardOutput.Enqueue(e.Data);
            }
        };
        process.ErrorDataReceived += (_, e) => { if (e.Data is not null) { output.Enqueue(e.Data); } };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
    }

    /// <summary>SIGTERM, what <c>docker stop</c> and Kubernetes send: the Server's graceful stop begins.</summary>
    public void Terminate()
    {
        if (process is { HasExited: false } && SendSignal(process.Id, SignalTerminate) != 0)
        {
            throw new InvalidOperationException($"kill({process.Id}, SIGTERM) failed: errno {Marshal.GetLastPInvokeError()}");
        }
    }

    public bool HasExited => process?.HasExited ?? true;

    /// <summary>The exit code, or null if the Server is still running after <paramref name="timeout"/>.</summary>
    public async Task<int?> WaitForExitAsync(TimeSpan timeout)
    {
        using var wait = new CancellationTokenSource(timeout);
        try
        {
            await process!.WaitForExitAsync(wait.Token);
            return process.ExitCode;
        }
        catch (OperationCanceledException)
        {
            return null;
        }
    }

    private const int SignalTerminate = 15;

    [DllImport("libc", EntryPoint = "kill", SetLastError = true)]
    private static extern int SendSignal(int pid, int signal);

    /// <summary>SIGKILL: no shutdown hooks, no draining — a crash.</summary>
    public async Task KillAsync()
    {
        if (process is { HasExited: false })
        {
            process.Kill(entireProcessTree: true);
            await process.WaitForExitAsync();
        }
    }

    public async ValueTask DisposeAsync()
    {
        await KillAsync();
        process?.Dispose();
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}
