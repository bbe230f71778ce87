using Orchestrator.Core.Monitoring;

namespace Orchestrator.Core.Tests.Monitoring;

/// <summary>Finding a reading and its facts in what a check returned.</summary>
internal static class Readings
{
    public static ConditionReading Of(this IReadOnlyList<ConditionReading> readings, string key) => readings.Single(r => r.DedupKey == key);

    public static string Fact(this ConditionReading reading, string name) => reading.Facts.Single(f => f.Key == name).Value;
}
