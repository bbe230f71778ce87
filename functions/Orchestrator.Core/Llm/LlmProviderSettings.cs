namespace Orchestrator.Core.Llm;

/// <summary>One provider's settings with every inherited value filled in (see <see cref="LlmOptions.ResolveProviders"/>).</summary>
public sealed record LlmProviderSettings(
    string Name,
    string Kind,
    string? Endpoint,
    string? ApiKey,
    string? Deployment,
    bool UseManagedIdentity,
    string? ManagedIdentityClientId,
    string Model,
    IReadOnlyDictionary<string, LlmModelOptions> Models,
    decimal InputCostPer1K,
    decimal OutputCostPer1K,
    int MaxConcurrency,
    int? RequestsPerMinute,
    int? TokensPerMinute,
    TimeSpan Timeout,
    TimeSpan SimulatedLatency,
    LlmChaosOptions Chaos,
    Breakers.CircuitBreakerSettings Breaker)
{
    /// <summary>The model this provider uses for a step that asks for <paramref name="requested"/>: that one when it is served here.</summary>
    public string ModelFor(string? requested) =>
        requested is null ? Model
        : Models.Count == 0 || Models.ContainsKey(requested) ? requested
        : Model;

    /// <summary>USD per 1,000 input and output tokens of <paramref name="model"/> (a dated reply model such as <c>gpt-4o-2024-08-06</c> takes its family's price).</summary>
    public (decimal Input, decimal Output) PriceOf(string model)
    {
        if (Models.TryGetValue(model, out var exact))
        {
            return (exact.InputCostPer1K, exact.OutputCostPer1K);
        }

        var family = Models.Where(m => model.StartsWith(m.Key, StringComparison.OrdinalIgnoreCase)).OrderByDescending(m => m.Key.Length).Select(m => m.Value).FirstOrDefault();
        return family is null ? (InputCostPer1K, OutputCostPer1K) : (family.InputCostPer1K, family.OutputCostPer1K);
    }

    public decimal CostOf(string model, long inputTokens, long outputTokens)
    {
        var (input, output) = PriceOf(model);
        return (inputTokens * input + outputTokens * output) / 1000m;
    }

    /// <summary>The configured secrets of this provider, for redaction.</summary>
    public IEnumerable<string> Secrets => ApiKey is { Length: > 0 } key ? [key] : [];
}
