using System.ComponentModel.DataAnnotations;

namespace Orchestrator.Core.Llm;

/// <summary>The price of one model of a provider (<c>Llm:Providers:&lt;name&gt;:Models:&lt;model&gt;</c>).</summary>
public sealed class LlmModelOptions
{
    /// <summary>USD per 1,000 input tokens.</summary>
    [Range(0, 1000)]
    public decimal InputCostPer1K { get; set; }

    /// <summary>USD per 1,000 output tokens.</summary>
    [Range(0, 1000)]
    public decimal OutputCostPer1K { get; set; }
}
