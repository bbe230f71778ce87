using System.ComponentModel.DataAnnotations;

namespace Orchestrator.Core.Hosting;

/// <summary>JSON log files with size-based rotation; off unless <see cref="Path"/> is set (the runbook's is <c>/var/log/llm-orchestrator/</c>).</summary>
public sealed class LogFileOptions
{
    public const string SectionName = "Logging:File";

    /// <summary>The name of the current file; rotated files get a <c>_001</c>, <c>_002</c>, … suffix.</summary>
    public const string FileName = "llm-orchestrator.log";

    /// <summary>Directory for the log files; created at start. Empty: no files.</summary>
    public string? Path { get; set; }

    /// <summary>A file that reaches this size is closed and a new one started.</summary>
    [Range(typeof(long), "4096", "1099511627776")]
    public long MaxFileSizeBytes { get; set; } = 100L * 1024 * 1024;

    /// <summary>How many files (the current one included) are kept; older ones are deleted.</summary>
    [Range(1, 10000)]
    public int RetainedFiles { get; set; } = 10;
}
