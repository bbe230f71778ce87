using System.Globalization;

namespace Orchestrator.Server.Tests.Drills;

/// <summary>One drill's measured recovery against the runbook's target, printed as one line.</summary>
public sealed record DrillResult(
    string Scenario,
    TimeSpan? FirstProgress,
    TimeSpan? AllCompleted,
    string Rpo,
    bool RpoMet,
    TimeSpan TargetRto,
    string TargetRpo,
    int Rebought)
{
    /// <summary>Whether the runbook's target was met: every run completed within the RTO, the RPO met, nothing bought twice.</summary>
    public bool Passed => RpoMet && AllCompleted is { } all && all <= TargetRto && Rebought == 0;

    /// <summary>
    /// What the test suite asserts: every run completed, the RPO met, no completed step bought again. The RTO itself is
    /// a measurement (printed, and judged by scripts/drill.sh), not a timed assertion that a slow CI machine would fail.
    /// </summary>
    public void AssertRecovered()
    {
        Assert.True(AllCompleted is not null, "not every run completed: " + Line);
        Assert.True(RpoMet, "RPO missed: " + Line);
        Assert.True(Rebought == 0, "completed steps were bought again: " + Line);
    }

    public string Line => string.Create(CultureInfo.InvariantCulture,
        $"{Scenario,-34} RTO first step {Seconds(FirstProgress)}, all runs {Seconds(AllCompleted)} (target {TargetRto.TotalSeconds:0} s) | RPO {Rpo} (target {TargetRpo}) | completed steps re-bought {Rebought} | {(Passed ? "PASS" : "FAIL")}");

    private static string Seconds(TimeSpan? value) => value is { } v ? string.Create(CultureInfo.InvariantCulture, $"{v.TotalSeconds:0.0} s") : "never";
}
