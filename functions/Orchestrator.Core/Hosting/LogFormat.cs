namespace Orchestrator.Core.Hosting;

/// <summary>What the process writes to stdout (<c>Logging:Format</c>).</summary>
public enum LogFormat
{
    /// <summary>One JSON object per line (CLEF: <c>@t</c>, <c>@l</c>, <c>@m</c>, <c>@x</c>, <c>@tr</c>, <c>@sp</c>, then every property and scope value).</summary>
    Json,

    /// <summary>Readable single-line text with scopes, for a developer's terminal.</summary>
    Simple,

    /// <summary>The host's own console logging, untouched (the Functions worker, whose logs reach the Functions host over gRPC).</summary>
    Host,
}
