namespace Orchestrator.Core.Api;

/// <summary>What one provider and model served in a run: calls, tokens and cost (steps reused from an earlier run are not counted).</summary>
public sealed record UsageView(string Provider, string Model, int Calls, TokensView Tokens, decimal CostUsd)
{
    public static IReadOnlyList<UsageView> From(IEnumerable<Persistence.WorkflowStepRecord> steps) =>
        steps.Where(s => s.Provider is not null && s.ReusedFrom is null && (s.TokensIn > 0 || s.TokensOut > 0 || s.CostUsd > 0))
            .GroupBy(s => (s.Provider!, s.Model ?? ""))
            .OrderBy(g => g.Key.Item1, StringComparer.Ordinal).ThenBy(g => g.Key.Item2, StringComparer.Ordinal)
            .Select(g => new UsageView(g.Key.Item1, g.Key.Item2, g.Count(), new TokensView(g.Sum(s => (long)s.TokensIn), g.Sum(s => (long)s.TokensOut)), g.Sum(s => s.CostUsd)))
            .ToList();
}
