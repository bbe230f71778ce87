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
    public bool Passed => RpoMet && AllCompleted is { } all && all <= TargetRto && Rebought == 0;

    public string Line => string.Create(CultureInfo.InvariantCulture,
        $"{Scenario,-34} RTO first step {Seconds(FirstProgress)}, all runs {Seconds(AllCompleted)} (target {TargetRto.TotalSeconds:0} s) | RPO {Rpo} (target {TargetRpo}) | completed steps re-bought {Rebought} | {(Passed ? "PASS" : "FAIL")}");

    private static string Seconds(TimeSpan? value) => value is { } v ? string.Create(CultureInfo.InvariantCulture, $"{v.TotalSeconds:0.0} s") : "never";
}
