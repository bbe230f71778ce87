namespace Orchestrator.Core.Llm;

/// <summary>The provider rejected the request (4xx other than 408/429): retrying it cannot help.</summary>
public sealed class LlmRequestRejectedException : Exception
{
    public LlmRequestRejectedException(string message, Exception? inner = null) : base(message, inner) { }

    public LlmRequestRejectedException() { }

    public LlmRequestRejectedException(string message) : base(message) { }
}

/// <summary>The provider could not answer now (5xx, 408, 429, timeout, network, open breaker): worth retrying later.</summary>
public sealed class LlmUnavailableException : Exception
{
    public LlmUnavailableException(string message, Exception? inner = null) : base(message, inner) { }

    public LlmUnavailableException() { }

    public LlmUnavailableException(string message) : base(message) { }
}
