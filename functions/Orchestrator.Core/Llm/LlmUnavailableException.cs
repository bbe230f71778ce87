namespace Orchestrator.Core.Llm;

/// <summary>The provider could not answer now (5xx, 408, 429, timeout, network, open breaker, rate limit): worth retrying later.</summary>
public sealed class LlmUnavailableException : Exception
{
    /// <summary>The message carries <paramref name="retryAfter"/> as a <see cref="RetryAfterHint"/> for the orchestration's retry.</summary>
    public LlmUnavailableException(string message, TimeSpan? retryAfter, Exception? inner = null)
        : base(RetryAfterHint.Append(message, retryAfter), inner) => RetryAfter = retryAfter;

    public LlmUnavailableException(string message, Exception? inner = null) : base(message, inner) { }

    public LlmUnavailableException() { }

    public LlmUnavailableException(string message) : base(message) { }

    /// <summary>The earliest time another attempt is worth making, when the provider or a limit said so.</summary>
    public TimeSpan? RetryAfter { get; }
}
