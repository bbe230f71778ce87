using System.Diagnostics;
using Orchestrator.Core.Tests.Hosting;

namespace Orchestrator.Functions.Tests;

/// <summary>
/// The worker process as the Functions host starts it: a bad setting ends it with exit code 78 and one line per key,
/// not an unhandled exception (which the host would report as a crashed worker and restart without end).
/// </summary>
public sealed class StartupTests
{
    public static TheoryData<Dictionary<string, string>, string[]> Refused => new()
    {
        { new() { ["Auth__Disabled"] = "true" }, ["Auth:Disabled is allowed only in local development"] },
        { new() { ["Logging__Format"] = "xml" }, ["'xml' at 'Logging:Format'"] },
        // Validated when the host starts, after the worker is built: both reach the guard together.
        { new() { ["Auth__AdminToken"] = "too-short", ["Monitors__ReplicaLag__Schedule"] = "every minute" }, ["Auth:AdminToken", "Monitors:ReplicaLag:Schedule"] },
    };

    [Theory]
    [MemberData(nameof(Refused))]
    public async Task A_bad_setting_stops_the_worker_with_exit_code_78_naming_each_key(Dictionary<string, string> settings, string[] named)
    {
        var info = new ProcessStartInfo("dotnet", [Path.Combine(FunctionsBuild.Output, "Orchestrator.Functions.dll")])
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            WorkingDirectory = FunctionsBuild.Output,
        };
        info.Environment["AZURE_FUNCTIONS_ENVIRONMENT"] = "Production";
        // Where the host would listen for its worker; nothing does, and a refused start must not get that far.
        info.Environment["Functions__Worker__HostEndpoint"] = "http://127.0.0.1:1";
        info.Environment["Functions__Worker__WorkerId"] = "startup-test";
        info.Environment["Functions__Worker__GrpcMaxMessageLength"] = "2147483647";
        foreach (var (key, value) in settings)
        {
            info.Environment[key] = value;
        }

        using var worker = Process.Start(info)!;
        var stdout = worker.StandardOutput.ReadToEndAsync();
        var stderr = worker.StandardError.ReadToEndAsync();
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        try
        {
            await worker.WaitForExitAsync(timeout.Token);
        }
        catch (OperationCanceledException)
        {
            worker.Kill(entireProcessTree: true);
        }

        RefusedStart.AssertRefused(worker.HasExited ? worker.ExitCode : null, await stdout + await stderr, named);
    }
}
