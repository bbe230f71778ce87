namespace Orchestrator.Core.Llm;

/// <summary>The provider rejected the request (4xx other than 408/429): retrying it cannot help.</summary>
public sealed class LlmRequestRejectedException : Exception
{
    public LlmRequestRejectedException(string message, Exception? inner = null) : base(message, inner) { }

    public LlmRequestRejectedException() { }

    public LlmRequestRejectedException(string message) : base(message) { }
}
