namespace Orchestrator.Core.Hosting;

/// <summary>Where log lines go besides the host's own providers: the stdout format and an optional directory of JSON files.</summary>
public sealed class LogOutputOptions
{
    public const string SectionName = "Logging";

    public LogFormat Format { get; set; } = LogFormat.Json;

    public LogFileOptions File { get; set; } = new();
}
