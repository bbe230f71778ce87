using DurableTask.Core;
using DurableTask.Core.History;
using DurableTask.Core.Query;
using Microsoft.Extensions.Logging;
using Npgsql;

namespace Orchestrator.Durable.Postgres;

/// <summary>
/// DurableTask.Core's orchestration service on PostgreSQL, so the same <see cref="TaskHubWorker"/> and the same
/// orchestrations and activities run with one database as their only store. Any number of processes compete for
/// work (<c>FOR UPDATE SKIP LOCKED</c>); a queued message wakes them through <c>LISTEN</c>/<c>NOTIFY</c>, with a
/// poll as the safety net; a lock is an expiry and a token on the row, so a crashed process's work is taken over
/// when its locks expire, or at once when it comes back with the same worker id.
/// </summary>
public sealed partial class PostgresOrchestrationService :
    IOrchestrationService, IOrchestrationServiceClient, IOrchestrationServiceQueryClient, IOrchestrationServicePurgeClient, IAsyncDisposable
{
    // Raised by durable.hold_lock when an episode's lock was lost: the whole save is rolled back.
    private const string LockLostState = "DT409";

    // The most work items one round trip locks.
    private const int MaxLockBatch = 16;

    private const string InstanceColumns =
        "instance_id, execution_id, name, version, status, created_at, last_updated_at, completed_at, scheduled_start_at, custom_status, failure, parent_instance, tags";

    private readonly PostgresOrchestrationServiceSettings settings;
    private readonly NpgsqlDataSource dataSource;
    private readonly ILogger logger;
    private readonly WorkSignal orchestrationWork = new();
    private readonly WorkSignal activityWork = new();
    private readonly TimeProvider time = TimeProvider.System;
    private readonly LockedWork<PostgresOrchestrationWorkItem> episodes;
    private readonly LockedWork<PostgresActivityWorkItem> activities;
    private CancellationTokenSource? running;
    private Task? listening;

    public PostgresOrchestrationService(PostgresOrchestrationServiceSettings settings)
    {
        ArgumentNullException.ThrowIfNull(settings);
        ArgumentException.ThrowIfNullOrWhiteSpace(settings.WorkerId);
        this.settings = settings;
        dataSource = settings.DataSource;
        logger = settings.LoggerFactory.CreateLogger("Orchestrator.Durable.Postgres");
        episodes = new LockedWork<PostgresOrchestrationWorkItem>(settings.MaxConcurrentOrchestrations, MaxLockBatch);
        activities = new LockedWork<PostgresActivityWorkItem>(settings.MaxConcurrentActivities, MaxLockBatch);
    }

    public int TaskOrchestrationDispatcherCount => settings.DispatcherCount;

    public int MaxConcurrentTaskOrchestrationWorkItems => settings.MaxConcurrentOrchestrations;

    public int TaskActivityDispatcherCount => settings.DispatcherCount;

    public int MaxConcurrentTaskActivityWorkItems => settings.MaxConcurrentActivities;

    public BehaviorOnContinueAsNew EventBehaviourForContinueAsNew => BehaviorOnContinueAsNew.Carryover;

    // ---- lifecycle ----------------------------------------------------------------------------------------------

    /// <summary>
    /// Releases every lock a previous process with this worker id held (it crashed, or was killed), so its steps
    /// run again now rather than when the locks expire; then starts listening for work.
    /// </summary>
    public async Task StartAsync()
    {
        running = new CancellationTokenSource();
        try
        {
            await using var batch = dataSource.CreateBatch();
            batch.BatchCommands.Add(Command(
                "UPDATE durable.instances SET locked_until = '-infinity', lock_owner = NULL, lock_token = NULL WHERE lock_owner = @owner",
                ("owner", settings.WorkerId)));
            batch.BatchCommands.Add(Command(
                "UPDATE durable.activity_messages SET available_at = now(), lock_owner = NULL, lock_token = NULL WHERE lock_owner = @owner",
                ("owner", settings.WorkerId)));
            batch.BatchCommands.Add(new NpgsqlBatchCommand($"SELECT pg_notify('{NotificationListener.OrchestrationChannel}', ''), pg_notify('{NotificationListener.ActivityChannel}', '')"));
            await batch.ExecuteNonQueryAsync(running.Token);
            DurableLog.Started(logger, settings.WorkerId, batch.BatchCommands[0].RecordsAffected, batch.BatchCommands[1].RecordsAffected);
        }
        catch (NpgsqlException ex)
        {
            DurableLog.StaleLockReleaseFailed(logger, ex.Message);
        }

        var listener = new NotificationListener(dataSource, orchestrationWork, activityWork, logger);
        listening = Task.Run(() => listener.RunAsync(running.Token));
    }

    public Task StopAsync() => StopAsync(isForced: false);

    public async Task StopAsync(bool isForced)
    {
        if (running is null)
        {
            return;
        }

        await running.CancelAsync();
        if (listening is not null)
        {
            await listening;
        }

        // Work locked for this worker but never handed to it goes back to the queue at once (or, with the database
        // away, when its lock expires).
        try
        {
            foreach (var episode in episodes.Drain())
            {
                await UnlockAsync(episode);
            }

            foreach (var activity in activities.Drain())
            {
                await AbandonTaskActivityWorkItemAsync(activity);
            }
        }
        catch (NpgsqlException ex)
        {
            DurableLog.StaleLockReleaseFailed(logger, ex.Message);
        }

        running.Dispose();
        running = null;
        listening = null;
    }

    /// <summary>The schema belongs to the product's migrations; there is nothing to create here.</summary>
    public Task CreateAsync() => Task.CompletedTask;

    public Task CreateAsync(bool recreateInstanceStore) => recreateInstanceStore ? DeleteAsync(deleteInstanceStore: true) : Task.CompletedTask;

    public Task CreateIfNotExistsAsync() => Task.CompletedTask;

    public Task DeleteAsync() => DeleteAsync(deleteInstanceStore: true);

    /// <summary>Empties the task hub (every instance, its history and every queued message); the schema stays.</summary>
    public async Task DeleteAsync(bool deleteInstanceStore)
    {
        await using var command = dataSource.CreateCommand(
            "TRUNCATE durable.orchestration_messages, durable.activity_messages" + (deleteInstanceStore ? ", durable.history, durable.instances" : string.Empty));
        await command.ExecuteNonQueryAsync();
    }

    public async ValueTask DisposeAsync() => await StopAsync(isForced: true);

    public bool IsMaxMessageCountExceeded(int currentMessageCount, OrchestrationRuntimeState runtimeState) => false;

    public int GetDelayInSecondsAfterOnProcessException(Exception exception) => exception is NpgsqlException ? 1 : 0;

    public int GetDelayInSecondsAfterOnFetchException(Exception exception) => 1;

    // ---- orchestration episodes ---------------------------------------------------------------------------------

    public async Task<TaskOrchestrationWorkItem?> LockNextTaskOrchestrationWorkItemAsync(TimeSpan receiveTimeout, CancellationToken cancellationToken) =>
        await FetchAsync(orchestrationWork, episodes, TryLockOrchestrationsAsync, receiveTimeout, cancellationToken);

    /// <summary>
    /// One round trip: lock the instances whose oldest visible messages are oldest, among those nobody holds (as many
    /// as the worker has room for), and read their visible messages and the history of their current executions;
    /// also when the next timer fires (or another delayed message becomes visible), so an idle loop wakes for it.
    /// </summary>
    private async Task<(List<PostgresOrchestrationWorkItem> Items, DateTime? NextDue)> TryLockOrchestrationsAsync(int count, CancellationToken cancellationToken)
    {
        var token = Guid.NewGuid();
        await using var batch = dataSource.CreateBatch();
        // An instance with several visible messages appears more than once in the join; it is locked and updated once.
        batch.BatchCommands.Add(Command(
            """
            WITH next AS (
                SELECT i.instance_id
                FROM durable.orchestration_messages m
                JOIN durable.instances i ON i.instance_id = m.instance_id
                WHERE m.visible_at <= now() AND i.locked_until <= now()
                ORDER BY m.visible_at
                LIMIT @count
                FOR UPDATE OF i SKIP LOCKED)
            UPDATE durable.instances i
            SET locked_until = now() + @lease, lock_owner = @owner, lock_token = @token
            FROM next WHERE i.instance_id = next.instance_id
            RETURNING i.instance_id, i.execution_id, i.locked_until
            """,
            ("count", count), ("lease", settings.LockTimeout), ("owner", settings.WorkerId), ("token", token)));
        batch.BatchCommands.Add(Command(
            """
            SELECT m.instance_id, m.id, m.message FROM durable.orchestration_messages m
            JOIN durable.instances i ON i.instance_id = m.instance_id
            WHERE i.lock_owner = @owner AND i.lock_token = @token AND m.visible_at <= now()
            ORDER BY m.id
            """,
            ("owner", settings.WorkerId), ("token", token)));
        batch.BatchCommands.Add(Command(
            """
            SELECT h.instance_id, h.event FROM durable.history h
            JOIN durable.instances i ON i.instance_id = h.instance_id AND i.execution_id = h.execution_id
            WHERE i.lock_owner = @owner AND i.lock_token = @token
            ORDER BY h.instance_id, h.sequence
            """,
            ("owner", settings.WorkerId), ("token", token)));
        batch.BatchCommands.Add(new NpgsqlBatchCommand("SELECT min(visible_at) FROM durable.orchestration_messages WHERE visible_at > now()"));

        var locked = new List<(string InstanceId, string ExecutionId, DateTime LockedUntil)>();
        var messages = new Dictionary<string, List<(long Id, TaskMessage Message)>>(StringComparer.Ordinal);
        var histories = new Dictionary<string, List<HistoryEvent>>(StringComparer.Ordinal);
        DateTime? nextDue;
        await using (var reader = await batch.ExecuteReaderAsync(cancellationToken))
        {
            while (await reader.ReadAsync(cancellationToken))
            {
                locked.Add((reader.GetString(0), reader.GetString(1), reader.GetDateTime(2)));
            }

            await reader.NextResultAsync(cancellationToken);
            while (await reader.ReadAsync(cancellationToken))
            {
                var list = messages.TryGetValue(reader.GetString(0), out var found) ? found : messages[reader.GetString(0)] = [];
                list.Add((reader.GetInt64(1), DurableJson.Read<TaskMessage>(reader.GetString(2))));
            }

            await reader.NextResultAsync(cancellationToken);
            while (await reader.ReadAsync(cancellationToken))
            {
                var list = histories.TryGetValue(reader.GetString(0), out var found) ? found : histories[reader.GetString(0)] = [];
                list.Add(DurableJson.Read<HistoryEvent>(reader.GetString(1)));
            }

            await reader.NextResultAsync(cancellationToken);
            await reader.ReadAsync(cancellationToken);
            nextDue = reader.IsDBNull(0) ? null : reader.GetDateTime(0);
        }

        var workItems = new List<PostgresOrchestrationWorkItem>(locked.Count);
        foreach (var (instanceId, executionId, lockedUntil) in locked)
        {
            var all = messages.GetValueOrDefault(instanceId) ?? [];
            var history = histories.GetValueOrDefault(instanceId) ?? [];

            // A message for an execution that is no longer current (a task completed after the instance was
            // restarted) would confuse the new one; it is dropped, as the Azure Storage provider drops it.
            var current = all.Where(m => IsForExecution(m.Message, executionId)).ToList();
            if (current.Count < all.Count)
            {
                DurableLog.StaleMessagesDiscarded(logger, instanceId, all.Count - current.Count);
            }

            var workItem = new PostgresOrchestrationWorkItem
            {
                InstanceId = instanceId,
                OrchestrationRuntimeState = new OrchestrationRuntimeState(history),
                NewMessages = current.Select(m => m.Message).ToList(),
                LockedUntilUtc = lockedUntil,
                LockToken = token,
                ExecutionId = executionId,
                HistoryCount = history.Count,
                MessageIds = all.Select(m => m.Id).ToArray(),
            };
            if (current.Count > 0)
            {
                workItems.Add(workItem);
            }
            else
            {
                // Nothing left to run: delete what was dropped and let go of the instance.
                await SaveEpisodeAsync(workItem, null, null, null, null, null, null, cancellationToken);
            }
        }

        return (workItems, nextDue);
    }

    private static bool IsForExecution(TaskMessage message, string executionId) =>
        message.Event is ExecutionStartedEvent
        || string.IsNullOrEmpty(message.OrchestrationInstance?.ExecutionId)
        || message.OrchestrationInstance.ExecutionId == executionId;

    public async Task RenewTaskOrchestrationWorkItemLockAsync(TaskOrchestrationWorkItem workItem)
    {
        var item = (PostgresOrchestrationWorkItem)workItem;
        await using var command = Command(dataSource,
            "UPDATE durable.instances SET locked_until = now() + @lease WHERE instance_id = @id AND lock_token = @token RETURNING locked_until",
            ("lease", settings.LockTimeout), ("id", item.InstanceId), ("token", item.LockToken));
        if (await command.ExecuteScalarAsync() is DateTime lockedUntil)
        {
            item.LockedUntilUtc = lockedUntil;
        }
    }

    public Task CompleteTaskOrchestrationWorkItemAsync(
        TaskOrchestrationWorkItem workItem,
        OrchestrationRuntimeState newOrchestrationRuntimeState,
        IList<TaskMessage> outboundMessages,
        IList<TaskMessage> orchestratorMessages,
        IList<TaskMessage> timerMessages,
        TaskMessage continuedAsNewMessage,
        OrchestrationState orchestrationState) =>
        SaveEpisodeAsync((PostgresOrchestrationWorkItem)workItem, newOrchestrationRuntimeState, outboundMessages, orchestratorMessages, timerMessages, continuedAsNewMessage, orchestrationState, CancellationToken.None);

    /// <summary>
    /// One transaction, one round trip: check the lock is still ours, append the episode's history, delete the
    /// messages it consumed, queue what it sent, write the instance's state and let go of the lock. A save whose
    /// lock was lost (it expired and another worker took the instance) changes nothing.
    /// </summary>
    private async Task SaveEpisodeAsync(
        PostgresOrchestrationWorkItem item,
        OrchestrationRuntimeState? runtimeState,
        IList<TaskMessage>? outbound,
        IList<TaskMessage>? orchestratorMessages,
        IList<TaskMessage>? timers,
        TaskMessage? continuedAsNew,
        OrchestrationState? state,
        CancellationToken cancellationToken)
    {
        await using var batch = dataSource.CreateBatch();
        batch.BatchCommands.Add(Command("SELECT durable.hold_lock(@id, @token)", ("id", item.InstanceId), ("token", item.LockToken)));

        var executionId = runtimeState?.OrchestrationInstance?.ExecutionId ?? item.ExecutionId;
        if (runtimeState is not null)
        {
            // A new execution (continue-as-new) starts a new history; otherwise only the events added in this episode.
            var first = executionId == item.ExecutionId ? item.HistoryCount : 0;
            if (executionId != item.ExecutionId)
            {
                batch.BatchCommands.Add(Command("DELETE FROM durable.history WHERE instance_id = @id", ("id", item.InstanceId)));
            }

            var events = runtimeState.Events.Skip(first).Select(DurableJson.Write).ToArray();
            if (events.Length > 0)
            {
                batch.BatchCommands.Add(Command(
                    """
                    INSERT INTO durable.history (instance_id, execution_id, sequence, event)
                    SELECT @id, @execution, @first + t.ordinality::int - 1, t.event FROM unnest(@events) WITH ORDINALITY AS t(event, ordinality)
                    ON CONFLICT DO NOTHING
                    """,
                    ("id", item.InstanceId), ("execution", executionId), ("first", first), ("events", events)));
            }
        }

        batch.BatchCommands.Add(Command("DELETE FROM durable.orchestration_messages WHERE id = ANY(@ids)", ("ids", item.MessageIds)));

        if (outbound is { Count: > 0 })
        {
            batch.BatchCommands.Add(Command(
                "INSERT INTO durable.activity_messages (instance_id, available_at, message) SELECT t.instance_id, now(), t.message FROM unnest(@instances, @messages) AS t(instance_id, message)",
                ("instances", outbound.Select(m => m.OrchestrationInstance.InstanceId).ToArray()), ("messages", outbound.Select(DurableJson.Write).ToArray())));
            batch.BatchCommands.Add(Notify(NotificationListener.ActivityChannel));
        }

        var toOrchestrations = new List<TaskMessage>();
        toOrchestrations.AddRange(orchestratorMessages ?? []);
        toOrchestrations.AddRange(timers ?? []);
        if (continuedAsNew is not null)
        {
            toOrchestrations.Add(continuedAsNew);
        }

        // A sub-orchestration (or a continued-as-new execution) starts like an instance created by a client.
        foreach (var start in toOrchestrations.Where(m => m.Event is ExecutionStartedEvent))
        {
            AddCreateInstance(batch, start, (ExecutionStartedEvent)start.Event, dedupeStatuses: null);
        }

        var others = toOrchestrations.Where(m => m.Event is not ExecutionStartedEvent).ToList();
        if (others.Count > 0)
        {
            AddSendMessages(batch, others);
        }

        if (state is not null)
        {
            batch.BatchCommands.Add(Command(
                """
                UPDATE durable.instances SET
                    execution_id = @execution, name = @name, version = @version, status = @status, created_at = @created,
                    last_updated_at = now(), completed_at = @completed, input = @input, output = @output,
                    custom_status = @custom_status, failure = @failure, tags = @tags,
                    locked_until = '-infinity', lock_owner = NULL, lock_token = NULL
                WHERE instance_id = @id
                """,
                ("id", item.InstanceId), ("execution", executionId), ("name", state.Name), ("version", NullIfEmpty(state.Version)),
                ("status", state.OrchestrationStatus.ToString()), ("created", Utc(state.CreatedTime) ?? time.GetUtcNow().UtcDateTime),
                ("completed", IsTerminal(state.OrchestrationStatus) ? Utc(state.CompletedTime) ?? time.GetUtcNow().UtcDateTime : null),
                ("input", state.Input), ("output", state.Output), ("custom_status", state.Status),
                ("failure", DurableJson.Write(state.FailureDetails)), ("tags", DurableJson.Write(state.Tags))));
        }
        else
        {
            batch.BatchCommands.Add(Command(
                "UPDATE durable.instances SET locked_until = '-infinity', lock_owner = NULL, lock_token = NULL WHERE instance_id = @id",
                ("id", item.InstanceId)));
        }

        // Messages that arrived while the instance was locked woke nobody who could take them: wake them now.
        batch.BatchCommands.Add(Command(
            $"SELECT pg_notify('{NotificationListener.OrchestrationChannel}', '') WHERE EXISTS (SELECT 1 FROM durable.orchestration_messages WHERE instance_id = @id AND visible_at <= now())",
            ("id", item.InstanceId)));

        try
        {
            await batch.ExecuteNonQueryAsync(cancellationToken);
            item.Released = true;
        }
        catch (PostgresException ex) when (ex.SqlState == LockLostState)
        {
            DurableLog.OrchestrationLockLost(logger, item.InstanceId);
            throw new InvalidOperationException($"The lock on orchestration '{item.InstanceId}' was lost; the episode was not saved.", ex);
        }
    }

    public Task AbandonTaskOrchestrationWorkItemAsync(TaskOrchestrationWorkItem workItem) => UnlockAsync((PostgresOrchestrationWorkItem)workItem);

    /// <summary>The end of every episode, saved or not (DurableTask.Core calls it last).</summary>
    public Task ReleaseTaskOrchestrationWorkItemAsync(TaskOrchestrationWorkItem workItem) => UnlockAsync((PostgresOrchestrationWorkItem)workItem);

    /// <summary>Lets go of the instance if this episode still holds it; its messages stay queued for the next one.</summary>
    private async Task UnlockAsync(PostgresOrchestrationWorkItem item)
    {
        episodes.End(item);
        if (item.Released)
        {
            return; // its save let go of the instance already
        }

        await using var batch = dataSource.CreateBatch();
        batch.BatchCommands.Add(Command(
            "UPDATE durable.instances SET locked_until = '-infinity', lock_owner = NULL, lock_token = NULL WHERE instance_id = @id AND lock_token = @token",
            ("id", item.InstanceId), ("token", item.LockToken)));
        batch.BatchCommands.Add(Notify(NotificationListener.OrchestrationChannel));
        await batch.ExecuteNonQueryAsync();
    }

    // ---- activities ---------------------------------------------------------------------------------------------

    public async Task<TaskActivityWorkItem?> LockNextTaskActivityWorkItem(TimeSpan receiveTimeout, CancellationToken cancellationToken) =>
        await FetchAsync(activityWork, activities, TryLockActivitiesAsync, receiveTimeout, cancellationToken);

    /// <summary>One round trip: lock the oldest available activity messages, as many as the worker has room for.</summary>
    private async Task<(List<PostgresActivityWorkItem> Items, DateTime? NextDue)> TryLockActivitiesAsync(int count, CancellationToken cancellationToken)
    {
        var token = Guid.NewGuid();
        await using var command = Command(dataSource,
            """
            UPDATE durable.activity_messages a
            SET available_at = now() + @lease, lock_owner = @owner, lock_token = @token, dequeue_count = a.dequeue_count + 1
            FROM (
                SELECT id FROM durable.activity_messages
                WHERE available_at <= now()
                ORDER BY available_at, id
                LIMIT @count
                FOR UPDATE SKIP LOCKED) next
            WHERE a.id = next.id
            RETURNING a.id, a.message, a.dequeue_count, a.available_at
            """,
            ("count", count), ("lease", settings.LockTimeout), ("owner", settings.WorkerId), ("token", token));
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        var items = new List<PostgresActivityWorkItem>();
        while (await reader.ReadAsync(cancellationToken))
        {
            var id = reader.GetInt64(0);
            items.Add(new PostgresActivityWorkItem
            {
                Id = id.ToString(System.Globalization.CultureInfo.InvariantCulture),
                MessageId = id,
                TaskMessage = DurableJson.Read<TaskMessage>(reader.GetString(1)),
                DeliveryAttempt = reader.GetInt32(2),
                LockedUntilUtc = reader.GetDateTime(3),
                LockToken = token,
            });
        }

        return (items, null);
    }

    public async Task<TaskActivityWorkItem> RenewTaskActivityWorkItemLockAsync(TaskActivityWorkItem workItem)
    {
        var item = (PostgresActivityWorkItem)workItem;
        await using var command = Command(dataSource,
            "UPDATE durable.activity_messages SET available_at = now() + @lease WHERE id = @id AND lock_token = @token RETURNING available_at",
            ("lease", settings.LockTimeout), ("id", item.MessageId), ("token", item.LockToken));
        if (await command.ExecuteScalarAsync() is DateTime lockedUntil)
        {
            item.LockedUntilUtc = lockedUntil;
        }

        return item;
    }

    /// <summary>
    /// Deletes the activity's message and queues its result for the orchestration, in one statement: a result whose
    /// lock was lost (the message expired and was taken again) is dropped, since the other execution answers.
    /// </summary>
    public async Task CompleteTaskActivityWorkItemAsync(TaskActivityWorkItem workItem, TaskMessage responseMessage)
    {
        var item = (PostgresActivityWorkItem)workItem;
        activities.End(item);
        await using var batch = dataSource.CreateBatch();
        batch.BatchCommands.Add(Command(
            """
            WITH done AS (
                DELETE FROM durable.activity_messages WHERE id = @id AND lock_token = @token RETURNING instance_id)
            INSERT INTO durable.orchestration_messages (instance_id, visible_at, message)
            SELECT done.instance_id, now(), @message FROM done
            WHERE EXISTS (SELECT 1 FROM durable.instances i WHERE i.instance_id = done.instance_id)
            """,
            ("id", item.MessageId), ("token", item.LockToken), ("message", DurableJson.Write(responseMessage))));
        batch.BatchCommands.Add(Notify(NotificationListener.OrchestrationChannel));
        await batch.ExecuteNonQueryAsync();
        if (batch.BatchCommands[0].RecordsAffected == 0)
        {
            DurableLog.ActivityLockLost(logger, item.MessageId, item.TaskMessage.OrchestrationInstance.InstanceId);
        }
    }

    /// <summary>
    /// Gives the message back: at once the first time (a stopping worker hands over what it had just taken), then
    /// with a growing delay, so a message that keeps failing to be processed does not spin.
    /// </summary>
    public async Task AbandonTaskActivityWorkItemAsync(TaskActivityWorkItem workItem)
    {
        var item = (PostgresActivityWorkItem)workItem;
        activities.End(item);
        var attempt = (int)Math.Clamp(item.DeliveryAttempt ?? 1, 1, 10);
        var delay = attempt == 1 ? TimeSpan.Zero : TimeSpan.FromSeconds(Math.Min(30, 1 << (attempt - 2)));
        await using var batch = dataSource.CreateBatch();
        batch.BatchCommands.Add(Command(
            "UPDATE durable.activity_messages SET available_at = now() + @delay, lock_owner = NULL, lock_token = NULL WHERE id = @id AND lock_token = @token",
            ("delay", delay), ("id", item.MessageId), ("token", item.LockToken)));
        batch.BatchCommands.Add(Notify(NotificationListener.ActivityChannel));
        await batch.ExecuteNonQueryAsync();
    }

    // ---- fetch loop ---------------------------------------------------------------------------------------------

    /// <summary>
    /// Hands out a work item locked earlier in the same round trip as another, or looks for work; when there is none,
    /// waits for a notification, the next timer, or the poll interval, whichever comes first, until
    /// <paramref name="receiveTimeout"/>.
    /// </summary>
    private async Task<T?> FetchAsync<T>(
        WorkSignal signal,
        LockedWork<T> held,
        Func<int, CancellationToken, Task<(List<T> Items, DateTime? NextDue)>> tryLock,
        TimeSpan receiveTimeout,
        CancellationToken cancellationToken)
        where T : class
    {
        var deadline = time.GetUtcNow() + receiveTimeout;
        while (!cancellationToken.IsCancellationRequested)
        {
            if (held.TryTake(out var waiting))
            {
                return waiting;
            }

            // The lock round trip is short and not cancelled: a stop that cancelled it half-way through reading
            // would leave work locked that nobody runs until its lock expires.
            var woken = signal.Next;
            var (items, nextDue) = await tryLock(held.BatchSize, CancellationToken.None);
            if (held.Add(items) is { } item)
            {
                return item;
            }

            var now = time.GetUtcNow();
            var wait = Min(deadline - now, settings.MaxPollingInterval);
            if (nextDue is { } due)
            {
                wait = Min(wait, new DateTimeOffset(DateTime.SpecifyKind(due, DateTimeKind.Utc)) - now);
            }

            if (deadline <= now)
            {
                return null;
            }

            if (wait > TimeSpan.Zero)
            {
                await Task.WhenAny(woken, Task.Delay(wait, time, cancellationToken));
            }
        }

        return null;
    }

    private static TimeSpan Min(TimeSpan a, TimeSpan b) => a < b ? a : b;

    // ---- helpers ------------------------------------------------------------------------------------------------

    private static bool IsTerminal(OrchestrationStatus status) =>
        status is OrchestrationStatus.Completed or OrchestrationStatus.Failed or OrchestrationStatus.Terminated or OrchestrationStatus.Canceled;

    private static DateTime? Utc(DateTime value) =>
        value == default || value == DateTime.MinValue ? null : DateTime.SpecifyKind(value, DateTimeKind.Utc);

    private static string? NullIfEmpty(string? value) => string.IsNullOrEmpty(value) ? null : value;

    private static NpgsqlBatchCommand Notify(string channel) => new($"SELECT pg_notify('{channel}', '')");

    private static NpgsqlBatchCommand Command(string sql, params (string Name, object? Value)[] parameters)
    {
        var command = new NpgsqlBatchCommand(sql);
        foreach (var (name, value) in parameters)
        {
            command.Parameters.Add(Parameter(name, value));
        }

        return command;
    }

    private static NpgsqlCommand Command(NpgsqlDataSource source, string sql, params (string Name, object? Value)[] parameters)
    {
        var command = source.CreateCommand(sql);
        foreach (var (name, value) in parameters)
        {
            command.Parameters.Add(Parameter(name, value));
        }

        return command;
    }

    private static NpgsqlParameter Parameter(string name, object? value) => value switch
    {
        // An untyped null: PostgreSQL infers its type from where it is used.
        null => new NpgsqlParameter(name, DBNull.Value),
        _ => new NpgsqlParameter(name, value),
    };

    private sealed class PostgresOrchestrationWorkItem : TaskOrchestrationWorkItem
    {
        public required Guid LockToken { get; init; }

        public required string ExecutionId { get; init; }

        public required int HistoryCount { get; init; }

        public required long[] MessageIds { get; init; }

        /// <summary>Saved, and the lock let go of in the same transaction.</summary>
        public bool Released { get; set; }
    }

    private sealed class PostgresActivityWorkItem : TaskActivityWorkItem
    {
        public required long MessageId { get; init; }

        public required Guid LockToken { get; init; }
    }
}
