namespace Orchestrator.Server;

/// <summary>Log lines of the Server host (5xxx).</summary>
internal static partial class ServerLog
{
    [LoggerMessage(5000, LogLevel.Information, "Durable task hub {TaskHub} started as worker {WorkerId}")]
    public static partial void TaskHubStarted(ILogger logger, string taskHub, string workerId);

    [LoggerMessage(5010, LogLevel.Critical, "The storage of durable task hub {TaskHub} is gone (deleted, or restored to an older point); creating it again and restarting the worker. Runs PostgreSQL shows as unfinished are resumed by the reconciler from their recorded steps")]
    public static partial void TaskHubLost(ILogger logger, string taskHub);

    [LoggerMessage(5011, LogLevel.Information, "Durable task hub {TaskHub} created again; the worker is running")]
    public static partial void TaskHubRecreated(ILogger logger, string taskHub);

    [LoggerMessage(5012, LogLevel.Warning, "Cannot check durable task hub {TaskHub}: {Error}")]
    public static partial void TaskHubCheckFailed(ILogger logger, string taskHub, string error);
}
