using System.Text;
using DurableTask.Core;
using DurableTask.Core.Exceptions;
using DurableTask.Core.History;
using DurableTask.Core.Query;
using Npgsql;

namespace Orchestrator.Durable.Postgres;

/// <summary>The client side: start, send, terminate, query, list and purge instances.</summary>
public sealed partial class PostgresOrchestrationService
{
    private const int PurgeBatchSize = 1000;
    private static readonly string[] TerminalStatuses =
        [nameof(OrchestrationStatus.Completed), nameof(OrchestrationStatus.Failed), nameof(OrchestrationStatus.Terminated), nameof(OrchestrationStatus.Canceled)];

    public Task CreateTaskOrchestrationAsync(TaskMessage creationMessage) => CreateTaskOrchestrationAsync(creationMessage, dedupeStatuses: null);

    /// <summary>
    /// Creates the instance, or starts it afresh when one with this id exists in a status not in
    /// <paramref name="dedupeStatuses"/> (its previous history goes); otherwise <see cref="OrchestrationAlreadyExistsException"/>.
    /// </summary>
    public async Task CreateTaskOrchestrationAsync(TaskMessage creationMessage, OrchestrationStatus[]? dedupeStatuses)
    {
        ArgumentNullException.ThrowIfNull(creationMessage);
        if (creationMessage.Event is not ExecutionStartedEvent started)
        {
            throw new ArgumentException("The creation message must carry an ExecutionStartedEvent.", nameof(creationMessage));
        }

        await using var batch = dataSource.CreateBatch();
        AddCreateInstance(batch, creationMessage, started, dedupeStatuses);
        await batch.ExecuteNonQueryAsync();
        if (batch.BatchCommands[0].RecordsAffected == 0)
        {
            throw new OrchestrationAlreadyExistsException($"An orchestration with instance id '{started.OrchestrationInstance.InstanceId}' already exists.");
        }
    }

    /// <summary>
    /// Adds to <paramref name="batch"/>: the instance row (new, or reset for a new execution unless its status is one
    /// of <paramref name="dedupeStatuses"/>), the removal of older executions' history, and the start message. The
    /// last two happen only if the row now belongs to this execution. The created time is the start event's timestamp,
    /// the one every saved episode writes back (OrchestrationState.CreatedTime), so it does not move when the instance
    /// first runs.
    /// </summary>
    private static void AddCreateInstance(NpgsqlBatch batch, TaskMessage message, ExecutionStartedEvent started, OrchestrationStatus[]? dedupeStatuses)
    {
        var instance = started.OrchestrationInstance;
        var scheduled = started.ScheduledStartTime is { } at ? DateTime.SpecifyKind(at, DateTimeKind.Utc) : (DateTime?)null;
        batch.BatchCommands.Add(Command(
            """
            INSERT INTO durable.instances AS i (instance_id, execution_id, name, version, status, created_at, last_updated_at, scheduled_start_at, input, parent_instance, tags)
            VALUES (@id, @execution, @name, @version, 'Pending', coalesce(@created, now()), now(), @scheduled, @input, @parent, @tags)
            ON CONFLICT (instance_id) DO UPDATE SET
                execution_id = excluded.execution_id, name = excluded.name, version = excluded.version, status = 'Pending',
                created_at = excluded.created_at, last_updated_at = now(), completed_at = NULL, scheduled_start_at = excluded.scheduled_start_at,
                input = excluded.input, output = NULL, custom_status = NULL, failure = NULL,
                parent_instance = excluded.parent_instance, tags = excluded.tags,
                locked_until = '-infinity', lock_owner = NULL, lock_token = NULL
            WHERE NOT (i.status = ANY(@dedupe))
            """,
            ("id", instance.InstanceId), ("execution", instance.ExecutionId), ("name", started.Name), ("version", NullIfEmpty(started.Version)),
            ("created", Utc(started.Timestamp)), ("scheduled", scheduled), ("input", started.Input), ("parent", DurableJson.Write(started.ParentInstance)), ("tags", DurableJson.Write(started.Tags)),
            ("dedupe", (dedupeStatuses ?? []).Select(s => s.ToString()).ToArray())));
        batch.BatchCommands.Add(Command(
            """
            DELETE FROM durable.history
            WHERE instance_id = @id AND execution_id <> @execution
              AND EXISTS (SELECT 1 FROM durable.instances WHERE instance_id = @id AND execution_id = @execution)
            """,
            ("id", instance.InstanceId), ("execution", instance.ExecutionId)));
        batch.BatchCommands.Add(Command(
            """
            INSERT INTO durable.orchestration_messages (instance_id, visible_at, message)
            SELECT @id, coalesce(@scheduled, now()), @message
            WHERE EXISTS (SELECT 1 FROM durable.instances WHERE instance_id = @id AND execution_id = @execution)
            """,
            ("id", instance.InstanceId), ("execution", instance.ExecutionId), ("scheduled", scheduled), ("message", DurableJson.Write(message))));
        batch.BatchCommands.Add(Notify(NotificationListener.OrchestrationChannel));
    }

    /// <summary>Adds to <paramref name="batch"/> the messages to existing instances (a timer's becomes visible when it fires).</summary>
    private static void AddSendMessages(NpgsqlBatch batch, IReadOnlyCollection<TaskMessage> messages)
    {
        batch.BatchCommands.Add(Command(
            """
            INSERT INTO durable.orchestration_messages (instance_id, visible_at, message)
            SELECT t.instance_id, coalesce(t.visible_at, now()), t.message FROM unnest(@instances, @visible, @messages) AS t(instance_id, visible_at, message)
            WHERE EXISTS (SELECT 1 FROM durable.instances i WHERE i.instance_id = t.instance_id)
            """,
            ("instances", messages.Select(m => m.OrchestrationInstance.InstanceId).ToArray()),
            ("visible", messages.Select(VisibleAt).ToArray()),
            ("messages", messages.Select(DurableJson.Write).ToArray())));
        batch.BatchCommands.Add(Notify(NotificationListener.OrchestrationChannel));
    }

    private static DateTime? VisibleAt(TaskMessage message) => message.Event switch
    {
        TimerFiredEvent timer => DateTime.SpecifyKind(timer.FireAt, DateTimeKind.Utc),
        ExecutionStartedEvent { ScheduledStartTime: { } at } => DateTime.SpecifyKind(at, DateTimeKind.Utc),
        _ => null,
    };

    public Task SendTaskOrchestrationMessageAsync(TaskMessage message) => SendTaskOrchestrationMessageBatchAsync(message);

    /// <summary>Queues the messages; one for an instance that does not exist is dropped, as the Azure Storage provider drops it.</summary>
    public async Task SendTaskOrchestrationMessageBatchAsync(params TaskMessage[] messages)
    {
        ArgumentNullException.ThrowIfNull(messages);
        if (messages.Length == 0)
        {
            return;
        }

        await using var batch = dataSource.CreateBatch();
        AddSendMessages(batch, messages);
        await batch.ExecuteNonQueryAsync();
        if (batch.BatchCommands[0].RecordsAffected < messages.Length)
        {
            var known = await ExistingAsync(messages.Select(m => m.OrchestrationInstance.InstanceId).Distinct().ToArray());
            foreach (var dropped in messages.Where(m => !known.Contains(m.OrchestrationInstance.InstanceId)))
            {
                DurableLog.MessageForUnknownInstance(logger, dropped.Event.EventType.ToString(), dropped.OrchestrationInstance.InstanceId);
            }
        }
    }

    private async Task<HashSet<string>> ExistingAsync(string[] instanceIds)
    {
        await using var command = Command(dataSource, "SELECT instance_id FROM durable.instances WHERE instance_id = ANY(@ids)", ("ids", instanceIds));
        await using var reader = await command.ExecuteReaderAsync();
        var known = new HashSet<string>(StringComparer.Ordinal);
        while (await reader.ReadAsync())
        {
            known.Add(reader.GetString(0));
        }

        return known;
    }

    public Task ForceTerminateTaskOrchestrationAsync(string instanceId, string reason) =>
        SendTaskOrchestrationMessageAsync(new TaskMessage
        {
            OrchestrationInstance = new OrchestrationInstance { InstanceId = instanceId },
            Event = new ExecutionTerminatedEvent(-1, reason),
        });

    /// <summary>Polls the instance's state (every 100 ms, backing off to 1 s) until it ends or <paramref name="timeout"/> passes (then null).</summary>
    public async Task<OrchestrationState?> WaitForOrchestrationAsync(string instanceId, string executionId, TimeSpan timeout, CancellationToken cancellationToken)
    {
        var deadline = time.GetUtcNow() + timeout;
        var delay = TimeSpan.FromMilliseconds(100);
        while (true)
        {
            var state = await GetOrchestrationStateAsync(instanceId, executionId);
            if (state is not null && IsTerminal(state.OrchestrationStatus))
            {
                return state;
            }

            var left = deadline - time.GetUtcNow();
            if (left <= TimeSpan.Zero)
            {
                return null;
            }

            await Task.Delay(Min(delay, left), time, cancellationToken);
            delay = Min(delay * 2, TimeSpan.FromSeconds(1));
        }
    }

    public async Task<IList<OrchestrationState>> GetOrchestrationStateAsync(string instanceId, bool allExecutions) =>
        await GetOrchestrationStateAsync(instanceId, executionId: null) is { } state ? [state] : [];

    public async Task<OrchestrationState?> GetOrchestrationStateAsync(string instanceId, string? executionId)
    {
        await using var command = Command(dataSource,
            $"SELECT {InstanceColumns}, input, output FROM durable.instances WHERE instance_id = @id AND (@execution::text IS NULL OR execution_id = @execution)",
            ("id", instanceId), ("execution", NullIfEmpty(executionId)));
        await using var reader = await command.ExecuteReaderAsync();
        return await reader.ReadAsync() ? ReadState(reader, withPayloads: true) : null;
    }

    /// <summary>The current execution's history as a JSON array of events (the shape the Azure Storage provider returns).</summary>
    public async Task<string> GetOrchestrationHistoryAsync(string instanceId, string? executionId)
    {
        await using var command = Command(dataSource,
            """
            SELECT h.event FROM durable.history h
            JOIN durable.instances i ON i.instance_id = h.instance_id AND i.execution_id = h.execution_id
            WHERE h.instance_id = @id AND (@execution::text IS NULL OR h.execution_id = @execution)
            ORDER BY h.sequence
            """,
            ("id", instanceId), ("execution", NullIfEmpty(executionId)));
        await using var reader = await command.ExecuteReaderAsync();
        var json = new StringBuilder("[");
        while (await reader.ReadAsync())
        {
            json.Append(json.Length > 1 ? "," : string.Empty).Append(reader.GetString(0));
        }

        return json.Append(']').ToString();
    }

    /// <summary>
    /// One page of instances in instance-id order, filtered by status, creation time and id prefix; the continuation
    /// token is the last id of the page (keyset paging: a page costs the same wherever it starts).
    /// </summary>
    public async Task<OrchestrationQueryResult> GetOrchestrationWithQueryAsync(OrchestrationQuery query, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(query);
        var pageSize = Math.Clamp(query.PageSize <= 0 ? 100 : query.PageSize, 1, 1000);
        var (where, parameters) = Filter(query.RuntimeStatus, query.CreatedTimeFrom, query.CreatedTimeTo, query.InstanceIdPrefix);
        if (!string.IsNullOrEmpty(query.ContinuationToken))
        {
            where.Add("instance_id > @after");
            parameters.Add(("after", query.ContinuationToken));
        }

        parameters.Add(("limit", pageSize + 1));
        var payloads = query.FetchInputsAndOutputs ? ", input, output" : string.Empty;
        await using var command = Command(dataSource,
            $"SELECT {InstanceColumns}{payloads} FROM durable.instances {Where(where)} ORDER BY instance_id LIMIT @limit",
            [.. parameters]);
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        var states = new List<OrchestrationState>();
        while (await reader.ReadAsync(cancellationToken))
        {
            states.Add(ReadState(reader, query.FetchInputsAndOutputs));
        }

        var more = states.Count > pageSize;
        if (more)
        {
            states.RemoveAt(pageSize);
        }

        return new OrchestrationQueryResult(states, more ? states[^1].OrchestrationInstance.InstanceId : null);
    }

    /// <summary>Purges one instance (its row, history and queued messages) if it has ended; a running one is left alone.</summary>
    public async Task<PurgeResult> PurgeInstanceStateAsync(string instanceId)
    {
        var deleted = await PurgeBatchAsync(["instance_id = @id", "status = ANY(@terminal)"], [("id", instanceId), ("terminal", TerminalStatuses)], CancellationToken.None);
        return new PurgeResult(deleted);
    }

    /// <summary>Purges every instance matching the filter, a thousand per transaction so no lock is held for long.</summary>
    public async Task<PurgeResult> PurgeInstanceStateAsync(PurgeInstanceFilter purgeInstanceFilter)
    {
        ArgumentNullException.ThrowIfNull(purgeInstanceFilter);
        using var limit = purgeInstanceFilter.Timeout is { } timeout ? new CancellationTokenSource(timeout) : new CancellationTokenSource();
        var (where, parameters) = Filter(purgeInstanceFilter.RuntimeStatus?.ToList(), purgeInstanceFilter.CreatedTimeFrom, purgeInstanceFilter.CreatedTimeTo, prefix: null);
        var total = 0;
        try
        {
            int deleted;
            do
            {
                deleted = await PurgeBatchAsync(where, parameters, limit.Token);
                total += deleted;
            }
            while (deleted == PurgeBatchSize);
        }
        catch (OperationCanceledException) when (limit.IsCancellationRequested)
        {
            return new PurgeResult(total, isComplete: false);
        }

        return new PurgeResult(total, isComplete: true);
    }

    /// <summary>The legacy purge: ended instances older than the threshold by the chosen timestamp.</summary>
    public async Task PurgeOrchestrationHistoryAsync(DateTime thresholdDateTimeUtc, OrchestrationStateTimeRangeFilterType timeRangeFilterType)
    {
        var column = timeRangeFilterType switch
        {
            OrchestrationStateTimeRangeFilterType.OrchestrationCompletedTimeFilter => "completed_at",
            OrchestrationStateTimeRangeFilterType.OrchestrationLastUpdatedTimeFilter => "last_updated_at",
            _ => "created_at",
        };
        List<(string, object?)> parameters = [("threshold", DateTime.SpecifyKind(thresholdDateTimeUtc, DateTimeKind.Utc)), ("terminal", TerminalStatuses)];
        while (await PurgeBatchAsync([$"{column} < @threshold", "status = ANY(@terminal)"], parameters, CancellationToken.None) == PurgeBatchSize)
        {
        }
    }

    private async Task<int> PurgeBatchAsync(List<string> where, List<(string, object?)> parameters, CancellationToken cancellationToken)
    {
        await using var command = Command(dataSource,
            $"""
            WITH gone AS (
                DELETE FROM durable.instances WHERE instance_id IN (
                    SELECT instance_id FROM durable.instances {Where(where)} LIMIT {PurgeBatchSize} FOR UPDATE SKIP LOCKED)
                RETURNING instance_id),
            history AS (DELETE FROM durable.history WHERE instance_id IN (SELECT instance_id FROM gone)),
            events AS (DELETE FROM durable.orchestration_messages WHERE instance_id IN (SELECT instance_id FROM gone)),
            tasks AS (DELETE FROM durable.activity_messages WHERE instance_id IN (SELECT instance_id FROM gone))
            SELECT count(*)::int FROM gone
            """,
            [.. parameters]);
        return (int)(await command.ExecuteScalarAsync(cancellationToken))!;
    }

    private static (List<string> Where, List<(string, object?)> Parameters) Filter(
        ICollection<OrchestrationStatus>? statuses, DateTime? from, DateTime? to, string? prefix)
    {
        var where = new List<string>();
        var parameters = new List<(string, object?)>();
        if (statuses is { Count: > 0 })
        {
            where.Add("status = ANY(@statuses)");
            parameters.Add(("statuses", statuses.Select(s => s.ToString()).ToArray()));
        }

        if (from is { } f && f > DateTime.MinValue)
        {
            where.Add("created_at >= @from");
            parameters.Add(("from", DateTime.SpecifyKind(f, DateTimeKind.Utc)));
        }

        if (to is { } t && t > DateTime.MinValue && t < DateTime.MaxValue)
        {
            where.Add("created_at <= @to");
            parameters.Add(("to", DateTime.SpecifyKind(t, DateTimeKind.Utc)));
        }

        if (!string.IsNullOrEmpty(prefix))
        {
            where.Add("starts_with(instance_id, @prefix)");
            parameters.Add(("prefix", prefix));
        }

        return (where, parameters);
    }

    private static string Where(List<string> conditions) => conditions.Count == 0 ? string.Empty : "WHERE " + string.Join(" AND ", conditions);

    private static OrchestrationState ReadState(NpgsqlDataReader reader, bool withPayloads)
    {
        string? Text(string column) => reader.IsDBNull(reader.GetOrdinal(column)) ? null : reader.GetString(reader.GetOrdinal(column));
        DateTime Time(string column) => reader.IsDBNull(reader.GetOrdinal(column)) ? default : DateTime.SpecifyKind(reader.GetDateTime(reader.GetOrdinal(column)), DateTimeKind.Utc);
        return new OrchestrationState
        {
            OrchestrationInstance = new OrchestrationInstance { InstanceId = reader.GetString(0), ExecutionId = reader.GetString(1) },
            Name = reader.GetString(2),
            Version = Text("version") ?? string.Empty,
            OrchestrationStatus = Enum.Parse<OrchestrationStatus>(reader.GetString(4)),
            CreatedTime = Time("created_at"),
            LastUpdatedTime = Time("last_updated_at"),
            CompletedTime = Time("completed_at"),
            ScheduledStartTime = reader.IsDBNull(reader.GetOrdinal("scheduled_start_at")) ? null : Time("scheduled_start_at"),
            Status = Text("custom_status"),
            FailureDetails = Text("failure") is { } failure ? DurableJson.Read<FailureDetails>(failure) : null,
            ParentInstance = Text("parent_instance") is { } parent ? DurableJson.Read<ParentInstance>(parent) : null,
            Tags = Text("tags") is { } tags ? DurableJson.Read<Dictionary<string, string>>(tags) : null,
            Input = withPayloads ? Text("input") : null,
            Output = withPayloads ? Text("output") : null,
        };
    }
}
