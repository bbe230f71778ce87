namespace Orchestrator.Server.Tests.Drills;

/// <summary>Collects drill lines: to the test output, and to <c>ORCH_DRILL_REPORT</c> when scripts/drill.sh runs the drills.</summary>
public static class DrillReport
{
    private static readonly object Gate = new();

    public static void Write(Xunit.Abstractions.ITestOutputHelper output, DrillResult result)
    {
        output.WriteLine(result.Line);
        if (Environment.GetEnvironmentVariable("ORCH_DRILL_REPORT") is { Length: > 0 } path)
        {
            lock (Gate)
            {
                File.AppendAllText(path, result.Line + Environment.NewLine);
            }
        }
    }
}
