namespace Orchestrator.Core.Llm;

/// <summary>The model's replies did not satisfy the step's output schema, even after the configured repairs.</summary>
public sealed class StructuredOutputException : Exception
{
    public StructuredOutputException(string message) : base(message) { }

    public StructuredOutputException() { }

    public StructuredOutputException(string message, Exception inner) : base(message, inner) { }
}
