using System.Globalization;

namespace Orchestrator.Core.Persistence;

/// <summary>
/// A run's budget as one claim saw it: what the run has spent (its own calls; steps reused from an earlier run do not
/// count), what the other live claims have reserved, and what this call may spend at most.
/// </summary>
public sealed record BudgetStanding(
    long TokensSpent, long TokensReserved, long TokensWanted, long? MaxTokens,
    decimal CostSpent, decimal CostReserved, decimal CostWanted, decimal? MaxCostUsd,
    int OutstandingReservations)
{
    public bool TokensExceeded => MaxTokens is { } limit && Exceeds(TokensSpent + TokensReserved, TokensWanted, limit);

    public bool CostExceeded => MaxCostUsd is { } limit && Exceeds(CostSpent + CostReserved, CostWanted, limit);

    public bool Exceeded => TokensExceeded || CostExceeded;

    /// <summary>Why the call may not be made, in the words the interpreter's own check uses.</summary>
    public string Describe() => TokensExceeded
        ? string.Create(CultureInfo.InvariantCulture, $"budget exhausted before the call: {TokensSpent + TokensReserved} of {MaxTokens} tokens spent or reserved, and this step may use up to {TokensWanted} more")
        : string.Create(CultureInfo.InvariantCulture, $"budget exhausted before the call: ${CostSpent + CostReserved:0.######} of ${MaxCostUsd} spent or reserved, and this step may cost up to ${CostWanted:0.######} more");

    // As the interpreter's check: a limit already reached refuses even a call that reserves nothing.
    private static bool Exceeds(decimal used, decimal wanted, decimal limit) => used >= limit || used + wanted > limit;
}
