using System.ComponentModel.DataAnnotations;

namespace Orchestrator.Core.Llm;

/// <summary>
/// A named provider (<c>Llm:Providers:&lt;name&gt;</c>) a definition can select with <c>provider:</c> or list in a
/// fallback chain. Settings left empty take the value of the same key under <c>Llm</c>.
/// </summary>
public sealed class LlmProviderOptions
{
    /// <summary><c>openai</c> (any OpenAI-compatible base URL), <c>azure-openai</c> (endpoint + deployment), or <c>simulated</c>.</summary>
    public string Kind { get; set; } = LlmOptions.OpenAi;

    /// <summary>Base URL (<c>openai</c>: e.g. <c>http://localhost:11434/v1</c>) or resource endpoint (<c>azure-openai</c>: <c>https://NAME.openai.azure.com</c>).</summary>
    public string? Endpoint { get; set; }

    /// <summary>From configuration or the environment only (a Key Vault reference on Azure); never from a definition.</summary>
    public string? ApiKey { get; set; }

    /// <summary><c>azure-openai</c>: the deployment that serves requests (the model name sent on the wire); defaults to <see cref="Model"/>.</summary>
    public string? Deployment { get; set; }

    /// <summary><c>azure-openai</c>: authenticate with the app's managed identity (Entra ID) instead of <see cref="ApiKey"/>.</summary>
    public bool UseManagedIdentity { get; set; }

    /// <summary>The client id of a user-assigned managed identity; empty for the system-assigned one.</summary>
    public string? ManagedIdentityClientId { get; set; }

    /// <summary>The model a step gets when it names none that this provider serves.</summary>
    public string? Model { get; set; }

    /// <summary>The models this provider serves, with their prices; a step's model outside this list gets <see cref="Model"/>.</summary>
    public Dictionary<string, LlmModelOptions> Models { get; set; } = new(StringComparer.OrdinalIgnoreCase);

    /// <summary>USD per 1,000 input tokens for a model without its own price.</summary>
    [Range(0, 1000)]
    public decimal? InputCostPer1K { get; set; }

    [Range(0, 1000)]
    public decimal? OutputCostPer1K { get; set; }

    /// <summary>Calls in flight at once across the whole cluster.</summary>
    [Range(1, 10_000)]
    public int? MaxConcurrency { get; set; }

    /// <summary>Requests per minute across the whole cluster; empty for no limit.</summary>
    [Range(1, 1_000_000)]
    public int? RequestsPerMinute { get; set; }

    /// <summary>Tokens (input + output) per minute across the whole cluster; empty for no limit.</summary>
    [Range(1, 1_000_000_000)]
    public int? TokensPerMinute { get; set; }

    /// <summary>Per-attempt timeout of one call.</summary>
    [Range(typeof(TimeSpan), "00:00:01", "01:00:00")]
    public TimeSpan? Timeout { get; set; }

    [Range(typeof(TimeSpan), "00:00:00", "00:10:00")]
    public TimeSpan? SimulatedLatency { get; set; }

    /// <summary>Fault injection for drills; off unless configured.</summary>
    public LlmChaosOptions Chaos { get; set; } = new();

    /// <summary>This provider's circuit breaker; empty values are the top-level ones.</summary>
    public LlmBreakerOptions Breaker { get; set; } = new();
}
