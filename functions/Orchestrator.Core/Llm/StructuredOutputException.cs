namespace Orchestrator.Core.Llm;

/// <summary>The model's replies did not satisfy the step's output schema, even after the configured repairs.</summary>
public sealed class StructuredOutputException : Exception
{
    public StructuredOutputException(string message) : base(message) { }

    public StructuredOutputException() { }

    public StructuredOutputException(string message, Exception inner) : base(message, inner) { }

    public StructuredOutputException(string message, LlmCompletion spent) : base(message) => Spent = spent;

    /// <summary>What the rejected replies cost in all; recorded on the failed step so no paid token goes unaccounted.</summary>
    public LlmCompletion? Spent { get; }
}
