using Orchestrator.Core.Incidents;

namespace Orchestrator.Core.Monitoring;

/// <summary>
/// What one check saw for one condition it watches. A check returns a reading for every condition it owns on every
/// run, clear ones included (that is how an incident learns its condition has cleared); a check that could not look
/// (its dependency did not answer) returns no reading for that condition, which leaves its state as it was.
/// </summary>
/// <param name="DedupKey">The condition's identity, e.g. <c>replica-lag</c>, <c>circuit-breaker:openai</c>: one unresolved incident per key.</param>
/// <param name="Firing">Whether the condition holds now.</param>
/// <param name="Severity">The runbook's classification of this condition.</param>
/// <param name="Title">One line for the incident, e.g. <c>Replication lag 41 s on replica</c>.</param>
/// <param name="Impact">Who or what it hurts, in the runbook's words (the notice's <c>Impact:</c> line).</param>
/// <param name="Summary">What was measured, in a sentence (root cause where the check can tell).</param>
/// <param name="NextStep">What the on-call engineer does, with the runbook's command.</param>
/// <param name="Facts">The measurements, in display order (values already formatted).</param>
public sealed record ConditionReading(
    string DedupKey,
    bool Firing,
    Severity Severity,
    string Title,
    string Impact,
    string Summary,
    string NextStep,
    IReadOnlyList<KeyValuePair<string, string>> Facts)
{
    /// <summary>The condition does not hold now.</summary>
    public static ConditionReading Clear(string dedupKey, Severity severity, string title, IReadOnlyList<KeyValuePair<string, string>>? facts = null) =>
        new(dedupKey, false, severity, title, "", "", "", facts ?? []);
}
