namespace Orchestrator.Core.Hosting;

/// <summary>A setting that stops the process at start; its message names the key (or the file and line) to fix.</summary>
public sealed class InvalidConfigurationException(string message, Exception? innerException = null)
    : Exception(message, innerException);
