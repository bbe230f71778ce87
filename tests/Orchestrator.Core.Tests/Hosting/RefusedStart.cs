using Orchestrator.Core.Hosting;

namespace Orchestrator.Core.Tests.Hosting;

/// <summary>
/// What a host process refused at start by <see cref="StartupGuard"/> must show, whichever host it is (the Server, the
/// Functions worker): exit code 78, the guard's message naming every key, and no unhandled exception.
/// </summary>
public static class RefusedStart
{
    public static void AssertRefused(int? exitCode, string output, IEnumerable<string> named)
    {
        Assert.True(exitCode == StartupGuard.ConfigurationErrorExitCode, $"expected exit code 78, got {exitCode?.ToString() ?? "none (still running)"}:\n{output}");
        Assert.Contains(StartupGuard.MessagePrefix, output);
        Assert.DoesNotContain("Unhandled exception", output);
        Assert.All(named, name => Assert.Contains(name, output));
    }
}
