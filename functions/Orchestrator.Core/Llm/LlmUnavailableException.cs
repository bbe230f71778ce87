namespace Orchestrator.Core.Llm;

/// <summary>The provider could not answer now (5xx, 408, 429, timeout, network, open breaker): worth retrying later.</summary>
public sealed class LlmUnavailableException : Exception
{
    public LlmUnavailableException(string message, Exception? inner = null) : base(message, inner) { }

    public LlmUnavailableException() { }

    public LlmUnavailableException(string message) : base(message) { }
}
