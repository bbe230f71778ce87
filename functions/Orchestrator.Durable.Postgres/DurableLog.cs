using Microsoft.Extensions.Logging;

namespace Orchestrator.Durable.Postgres;

/// <summary>Every log line of the PostgreSQL durable backend (event ids 56xx).</summary>
internal static partial class DurableLog
{
    [LoggerMessage(5600, LogLevel.Information, "PostgreSQL task hub started as worker {WorkerId}; released {Episodes} orchestration and {Activities} activity lock(s) a previous process with this worker id held")]
    public static partial void Started(ILogger logger, string workerId, int episodes, int activities);

    [LoggerMessage(5601, LogLevel.Warning, "PostgreSQL task hub: could not release the previous process's locks at start ({Error}); they expire by themselves")]
    public static partial void StaleLockReleaseFailed(ILogger logger, string error);

    [LoggerMessage(5602, LogLevel.Warning, "PostgreSQL task hub: the notification connection is down ({Error}); polling until it is back")]
    public static partial void ListenerLost(ILogger logger, string error);

    [LoggerMessage(5603, LogLevel.Information, "PostgreSQL task hub: the notification connection is back after {Failures} failed attempt(s)")]
    public static partial void ListenerReconnected(ILogger logger, int failures);

    [LoggerMessage(5604, LogLevel.Warning, "Orchestration {InstanceId}: the lock expired and was taken by another worker before this episode was saved; the episode is discarded and runs again there")]
    public static partial void OrchestrationLockLost(ILogger logger, string instanceId);

    [LoggerMessage(5605, LogLevel.Warning, "Activity message {MessageId} of orchestration {InstanceId}: the lock expired and the message was taken again before this result was saved; the result is dropped (the other execution answers)")]
    public static partial void ActivityLockLost(ILogger logger, long messageId, string instanceId);

    [LoggerMessage(5606, LogLevel.Information, "Orchestration {InstanceId}: discarded {Count} message(s) for an execution other than the current one")]
    public static partial void StaleMessagesDiscarded(ILogger logger, string instanceId, int count);

    [LoggerMessage(5607, LogLevel.Warning, "Message {EventType} for orchestration {InstanceId} dropped: no such instance")]
    public static partial void MessageForUnknownInstance(ILogger logger, string eventType, string instanceId);
}
