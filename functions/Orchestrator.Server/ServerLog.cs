namespace Orchestrator.Server;

/// <summary>Log lines of the Server host (5xxx).</summary>
internal static partial class ServerLog
{
    [LoggerMessage(5000, LogLevel.Information, "Durable task hub {TaskHub} started as worker {WorkerId}")]
    public static partial void TaskHubStarted(ILogger logger, string taskHub, string workerId);
}
