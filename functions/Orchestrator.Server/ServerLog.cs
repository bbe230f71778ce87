namespace Orchestrator.Server;

/// <summary>Log lines of the Server host (5xxx).</summary>
internal static partial class ServerLog
{
    [LoggerMessage(5000, LogLevel.Information, "Durable task hub started on {Backend} (task hub {TaskHub}) as worker {WorkerId}")]
    public static partial void TaskHubStarted(ILogger logger, string backend, string taskHub, string workerId);

    [LoggerMessage(5010, LogLevel.Critical, "The storage of durable task hub {TaskHub} is gone (deleted, or restored to an older point); creating it again and restarting the worker. Runs PostgreSQL shows as unfinished are resumed by the reconciler from their recorded steps")]
    public static partial void TaskHubLost(ILogger logger, string taskHub);

    [LoggerMessage(5011, LogLevel.Information, "Durable task hub {TaskHub} created again; the worker is running")]
    public static partial void TaskHubRecreated(ILogger logger, string taskHub);

    [LoggerMessage(5012, LogLevel.Warning, "Cannot check durable task hub {TaskHub}: {Error}")]
    public static partial void TaskHubCheckFailed(ILogger logger, string taskHub, string error);

    [LoggerMessage(5020, LogLevel.Information, "Stopping: no work in flight on task hub {TaskHub}")]
    public static partial void NothingToDrain(ILogger logger, string taskHub);

    [LoggerMessage(5021, LogLevel.Warning, "Stopping: taking no new work; waiting for {Activities} step(s) and {Episodes} orchestration episode(s) in flight to finish (up to {TimeoutSeconds} s)")]
    public static partial void Draining(ILogger logger, int activities, int episodes, double timeoutSeconds);

    [LoggerMessage(5022, LogLevel.Information, "Stopping: the {Activities} step(s) in flight finished and were recorded after {ElapsedSeconds:0.0} s")]
    public static partial void Drained(ILogger logger, int activities, double elapsedSeconds);

    [LoggerMessage(5023, LogLevel.Error, "Stopping: {Activities} step(s) and {Episodes} orchestration episode(s) still running after {ElapsedSeconds:0.0} s are abandoned; another instance re-runs them after the visibility timeout (raise Durable:DrainTimeout and the termination grace period together)")]
    public static partial void DrainTimedOut(ILogger logger, int activities, int episodes, double elapsedSeconds);

    [LoggerMessage(5030, LogLevel.Information, "Durable history retention: purged {Count} instance(s) that ended and were created before {Cutoff:o}")]
    public static partial void HistoryPurged(ILogger logger, int count, DateTime cutoff);

    [LoggerMessage(5031, LogLevel.Warning, "Durable history retention: the purge failed ({Error}); trying again at the next interval")]
    public static partial void HistoryPurgeFailed(ILogger logger, string error);
}
