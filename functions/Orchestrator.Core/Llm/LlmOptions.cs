using System.ComponentModel.DataAnnotations;

namespace Orchestrator.Core.Llm;

/// <summary>
/// LLM providers. The settings directly under <c>Llm</c> are the provider named <c>default</c> (and the defaults of
/// every named provider under <see cref="Providers"/>); the rest applies to all providers.
/// </summary>
public sealed class LlmOptions
{
    public const string SectionName = "Llm";

    /// <summary><c>openai</c> (any OpenAI-compatible server), <c>azure-openai</c>, <c>simulated</c>, or empty to choose from <see cref="Endpoint"/> / <c>OPENAI_*</c>.</summary>
    public string? Provider { get; set; }

    /// <summary>Base URL, e.g. <c>https://api.openai.com/v1</c>, <c>https://RESOURCE.openai.azure.com/openai/v1</c>, <c>http://localhost:11434/v1</c>.</summary>
    public string? Endpoint { get; set; }

    public string? ApiKey { get; set; }

    /// <summary><c>azure-openai</c>: the deployment; see <see cref="LlmProviderOptions.Deployment"/>.</summary>
    public string? Deployment { get; set; }

    public bool UseManagedIdentity { get; set; }

    public string? ManagedIdentityClientId { get; set; }

    /// <summary>The default provider's models and their prices (<c>Llm:Models:gpt-4o:InputCostPer1K</c>).</summary>
    public Dictionary<string, LlmModelOptions> Models { get; set; } = new(StringComparer.OrdinalIgnoreCase);

    /// <summary>The default provider's requests per minute across the cluster; empty for no limit.</summary>
    [Range(1, 1_000_000)]
    public int? RequestsPerMinute { get; set; }

    /// <summary>The default provider's tokens per minute across the cluster; empty for no limit.</summary>
    [Range(1, 1_000_000_000)]
    public int? TokensPerMinute { get; set; }

    /// <summary>The default provider's fault injection; see <see cref="LlmChaosOptions"/>.</summary>
    public LlmChaosOptions Chaos { get; set; } = new();

    [Required]
    public string Model { get; set; } = "gpt-4o-mini";

    /// <summary>Per-attempt timeout of one call (Polly); retries between attempts belong to Durable.</summary>
    [Range(typeof(TimeSpan), "00:00:01", "01:00:00")]
    public TimeSpan Timeout { get; set; } = TimeSpan.FromSeconds(120);

    /// <summary>Artificial latency of the simulated provider.</summary>
    [Range(typeof(TimeSpan), "00:00:00", "00:10:00")]
    public TimeSpan SimulatedLatency { get; set; } = TimeSpan.FromMilliseconds(300);

    /// <summary>Calls in flight at once per provider, across the whole cluster.</summary>
    [Range(1, 10_000)]
    public int MaxConcurrency { get; set; } = 32;

    /// <summary>Circuit breaker: failure ratio over the sampling window that opens it.</summary>
    [Range(0.01, 1.0)]
    public double BreakerFailureRatio { get; set; } = 0.5;

    [Range(2, 10_000)]
    public int BreakerMinimumThroughput { get; set; } = 10;

    [Range(typeof(TimeSpan), "00:00:01", "01:00:00")]
    public TimeSpan BreakerSamplingDuration { get; set; } = TimeSpan.FromSeconds(60);

    [Range(typeof(TimeSpan), "00:00:01", "01:00:00")]
    public TimeSpan BreakerDuration { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>USD per 1,000 input / output tokens, for the run's cost total (0 when unknown).</summary>
    [Range(0, 1000)]
    public decimal InputCostPer1K { get; set; }

    [Range(0, 1000)]
    public decimal OutputCostPer1K { get; set; }

    /// <summary>The output tokens a step without <c>maxTokens</c> reserves against its run's budget before the call.</summary>
    [Range(1, 1_000_000)]
    public int ReservedOutputTokens { get; set; } = 1024;

    /// <summary>How a step's output schema is requested: <c>JsonSchema</c> (response_format json_schema), <c>JsonObject</c> (json_object), <c>None</c> (prompt only).</summary>
    public StructuredOutputMode StructuredOutput { get; set; } = StructuredOutputMode.JsonSchema;

    /// <summary>How many times an invalid structured reply is sent back with its validation errors before the step fails.</summary>
    [Range(0, 10)]
    public int StructuredOutputRepairs { get; set; } = 2;

    /// <summary>More providers by name (<c>Llm:Providers:local:Endpoint</c> …); the settings above are the provider named <c>default</c>.</summary>
    public Dictionary<string, LlmProviderOptions> Providers { get; set; } = new(StringComparer.OrdinalIgnoreCase);

    public const string DefaultProviderName = "default";

    public const string OpenAi = "openai";
    public const string AzureOpenAi = "azure-openai";
    public const string Simulated = "simulated";

    /// <summary>Every provider by name, with the settings each inherits from this section filled in.</summary>
    public IReadOnlyDictionary<string, LlmProviderSettings> ResolveProviders()
    {
        var resolved = new Dictionary<string, LlmProviderSettings>(StringComparer.OrdinalIgnoreCase)
        {
            [DefaultProviderName] = new(
                DefaultProviderName, EffectiveProvider, Endpoint, ApiKey, Deployment, UseManagedIdentity, ManagedIdentityClientId, Model,
                Models, InputCostPer1K, OutputCostPer1K, MaxConcurrency, RequestsPerMinute, TokensPerMinute, Timeout, SimulatedLatency, Chaos,
                new LlmBreakerOptions().Over(this)),
        };
        foreach (var (name, p) in Providers)
        {
            resolved[name] = new(
                name, p.Kind.Trim().ToLowerInvariant(), p.Endpoint, p.ApiKey, p.Deployment, p.UseManagedIdentity, p.ManagedIdentityClientId,
                p.Model ?? p.Deployment ?? Model, p.Models, p.InputCostPer1K ?? InputCostPer1K, p.OutputCostPer1K ?? OutputCostPer1K,
                p.MaxConcurrency ?? MaxConcurrency, p.RequestsPerMinute, p.TokensPerMinute, p.Timeout ?? Timeout,
                p.SimulatedLatency ?? SimulatedLatency, p.Chaos, p.Breaker.Over(this));
        }

        return resolved;
    }

    /// <summary>The provider actually used once configuration and <c>OPENAI_*</c> variables are applied.</summary>
    public string EffectiveProvider =>
        !string.IsNullOrWhiteSpace(Provider) ? Provider.Trim().ToLowerInvariant()
        : !string.IsNullOrWhiteSpace(Endpoint) || !string.IsNullOrWhiteSpace(ApiKey) ? OpenAi
        : Simulated;
}
