using DurableTask.Core;
using DurableTask.Core.History;
using Microsoft.DurableTask;
using Microsoft.DurableTask.Client;
using CoreFailure = DurableTask.Core.FailureDetails;

namespace Orchestrator.Server.Durable;

/// <summary>
/// The Durable SDK's <see cref="DurableTaskClient"/> over DurableTask.Core's <see cref="TaskHubClient"/>, so the
/// Core HTTP handlers talk to the Server's task hub exactly as they talk to the Functions host's, whichever backend
/// holds it: everything goes through DurableTask.Core's client, query and purge interfaces.
/// </summary>
public sealed class TaskHubDurableClient : DurableTaskClient
{
    // The most rows one query page returns (an Azure Table query's limit).
    private const int DurableQueryPageSize = 1000;
    private static readonly TimeSpan PollInterval = TimeSpan.FromMilliseconds(500);
    private readonly DurableBackend backend;
    private readonly TaskHubClient client;

    public TaskHubDurableClient(DurableBackend backend, Microsoft.Extensions.Options.IOptions<DurableServerOptions> options, ILoggerFactory loggerFactory)
        : base(options.Value.TaskHubName)
    {
        this.backend = backend;
        client = new TaskHubClient(backend.Client, new SystemTextJsonDataConverter(), loggerFactory);
    }

    public override async Task<string> ScheduleNewOrchestrationInstanceAsync(
        TaskName orchestratorName, object? input = null, StartOrchestrationOptions? options = null, CancellationToken cancellation = default)
    {
        var instanceId = options?.InstanceId ?? Guid.NewGuid().ToString("N");
        var instance = options?.StartAt is { } startAt
            ? await client.CreateScheduledOrchestrationInstanceAsync(orchestratorName.Name, string.Empty, instanceId, input, startAt.UtcDateTime)
            : await client.CreateOrchestrationInstanceAsync(orchestratorName.Name, string.Empty, instanceId, input);
        return instance.InstanceId;
    }

    public override Task RaiseEventAsync(string instanceId, string eventName, object? eventPayload = null, CancellationToken cancellation = default) =>
        client.RaiseEventAsync(new OrchestrationInstance { InstanceId = instanceId }, eventName, eventPayload!);

    public override Task TerminateInstanceAsync(string instanceId, TerminateInstanceOptions? options = null, CancellationToken cancellation = default) =>
        client.TerminateInstanceAsync(new OrchestrationInstance { InstanceId = instanceId }, options?.Output?.ToString() ?? "terminated");

    public override Task SuspendInstanceAsync(string instanceId, string? reason = null, CancellationToken cancellation = default) =>
        client.SuspendInstanceAsync(new OrchestrationInstance { InstanceId = instanceId }, reason ?? "suspended");

    public override Task ResumeInstanceAsync(string instanceId, string? reason = null, CancellationToken cancellation = default) =>
        client.ResumeInstanceAsync(new OrchestrationInstance { InstanceId = instanceId }, reason ?? "resumed");

    public override async Task<OrchestrationMetadata?> GetInstancesAsync(string instanceId, bool getInputsAndOutputs = false, CancellationToken cancellation = default)
    {
        var state = await client.GetOrchestrationStateAsync(instanceId).WaitAsync(cancellation);
        return state is null ? null : ToMetadata(state, getInputsAndOutputs);
    }

    public override AsyncPageable<OrchestrationMetadata> GetAllInstancesAsync(OrchestrationQuery? filter = null)
    {
        var query = filter ?? new OrchestrationQuery();
        return Pageable.Create(async (string? continuation, int? pageSize, CancellationToken cancellation) =>
        {
            var condition = Condition(query.CreatedFrom, query.CreatedTo, query.Statuses, query.InstanceIdPrefix, query.FetchInputsAndOutputs, pageSize ?? query.PageSize);
            var result = await QueryAsync(condition, continuation ?? query.ContinuationToken, cancellation);
            var values = result.OrchestrationState.Select(state => ToMetadata(state, query.FetchInputsAndOutputs)).ToList();
            return new Page<OrchestrationMetadata>(values, ContinuationTokens.Seal(result.ContinuationToken));
        });
    }

    public override async Task<IList<HistoryEvent>> GetOrchestrationHistoryAsync(string instanceId, CancellationToken cancellation = default) =>
        HistoryJson.Read(await backend.Client.GetOrchestrationHistoryAsync(instanceId, executionId: null));

    public override async Task<OrchestrationMetadata> WaitForInstanceStartAsync(string instanceId, bool getInputsAndOutputs = false, CancellationToken cancellation = default)
    {
        while (true)
        {
            var metadata = await GetInstancesAsync(instanceId, getInputsAndOutputs, cancellation);
            if (metadata is not null && metadata.RuntimeStatus != OrchestrationRuntimeStatus.Pending)
            {
                return metadata;
            }

            await Task.Delay(PollInterval, cancellation);
        }
    }

    public override async Task<OrchestrationMetadata> WaitForInstanceCompletionAsync(string instanceId, bool getInputsAndOutputs = false, CancellationToken cancellation = default)
    {
        while (true)
        {
            var metadata = await GetInstancesAsync(instanceId, getInputsAndOutputs, cancellation);
            if (metadata is not null && metadata.IsCompleted)
            {
                return metadata;
            }

            await Task.Delay(PollInterval, cancellation);
        }
    }

    public override async Task<Microsoft.DurableTask.Client.PurgeResult> PurgeInstanceAsync(string instanceId, PurgeInstanceOptions? options = null, CancellationToken cancellation = default)
    {
        var result = await backend.Purge.PurgeInstanceStateAsync(instanceId);
        return new Microsoft.DurableTask.Client.PurgeResult(result.DeletedInstanceCount);
    }

    /// <summary>
    /// The backend's own purge by filter, except on Azure Storage, whose purge by filter ignores a status filter of
    /// Running alone and purges every instance in the time range, whatever its status (seen with AzureStorage 2.11.2
    /// on Azurite): there the matching instances are found with the same query as the list and purged one by one. It
    /// too deletes instance by instance, so nothing is lost by doing it here.
    /// </summary>
    public override async Task<Microsoft.DurableTask.Client.PurgeResult> PurgeAllInstancesAsync(PurgeInstancesFilter filter, PurgeInstanceOptions? options = null, CancellationToken cancellation = default)
    {
        if (backend.Kind == DurableBackendKind.AzureStorage)
        {
            return new Microsoft.DurableTask.Client.PurgeResult(await PurgeOneByOneAsync(filter, cancellation));
        }

        var statuses = filter.Statuses?.Select(s => (OrchestrationStatus)(int)s).ToList();
        var purged = await backend.Purge.PurgeInstanceStateAsync(new PurgeInstanceFilter(filter.CreatedFrom?.UtcDateTime ?? DateTime.MinValue, filter.CreatedTo?.UtcDateTime, statuses));
        return new Microsoft.DurableTask.Client.PurgeResult(purged.DeletedInstanceCount);
    }

    private async Task<int> PurgeOneByOneAsync(PurgeInstancesFilter filter, CancellationToken cancellation)
    {
        var ids = new List<string>();
        string? token = null;
        do
        {
            var page = await backend.Query.GetOrchestrationWithQueryAsync(
                Condition(filter.CreatedFrom, filter.CreatedTo, filter.Statuses, prefix: null, fetchPayloads: false, DurableQueryPageSize, token), cancellation);
            ids.AddRange(page.OrchestrationState.Select(state => state.OrchestrationInstance.InstanceId));
            token = string.IsNullOrEmpty(page.ContinuationToken) ? null : page.ContinuationToken;
        }
        while (token is not null);

        var deleted = 0;
        foreach (var id in ids)
        {
            cancellation.ThrowIfCancellationRequested();
            deleted += (await backend.Purge.PurgeInstanceStateAsync(id)).DeletedInstanceCount;
        }

        return deleted;
    }

    public override ValueTask DisposeAsync() => ValueTask.CompletedTask;

    private static DurableTask.Core.Query.OrchestrationQuery Condition(
        DateTimeOffset? from, DateTimeOffset? to, IEnumerable<OrchestrationRuntimeStatus>? statuses, string? prefix, bool fetchPayloads, int pageSize, string? storageToken = null) => new()
    {
        CreatedTimeFrom = from?.UtcDateTime,
        CreatedTimeTo = to?.UtcDateTime,
        RuntimeStatus = statuses?.Select(s => (OrchestrationStatus)(int)s).ToList(),
        InstanceIdPrefix = prefix,
        FetchInputsAndOutputs = fetchPayloads,
        PageSize = pageSize,
        ContinuationToken = storageToken,
    };

    /// <summary>One page of instances; a token the store refuses is the caller's error, not an outage.</summary>
    private async Task<DurableTask.Core.Query.OrchestrationQueryResult> QueryAsync(DurableTask.Core.Query.OrchestrationQuery condition, string? continuationToken, CancellationToken cancellation)
    {
        condition.ContinuationToken = ContinuationTokens.Open(continuationToken);
        var storageToken = condition.ContinuationToken;
        try
        {
            return await backend.Query.GetOrchestrationWithQueryAsync(condition, cancellation);
        }
        catch (Azure.RequestFailedException ex) when (ex.Status == 400 && storageToken is not null)
        {
            throw new ArgumentException("The storage service rejected the continuation token.", nameof(continuationToken), ex);
        }
    }

    private static OrchestrationMetadata ToMetadata(OrchestrationState state, bool withData) => new(state.Name, state.OrchestrationInstance.InstanceId)
    {
        RuntimeStatus = (OrchestrationRuntimeStatus)(int)state.OrchestrationStatus,
        CreatedAt = new DateTimeOffset(DateTime.SpecifyKind(state.CreatedTime, DateTimeKind.Utc)),
        LastUpdatedAt = new DateTimeOffset(DateTime.SpecifyKind(state.LastUpdatedTime, DateTimeKind.Utc)),
        SerializedInput = withData ? state.Input : null,
        SerializedOutput = withData ? state.Output : null,
        SerializedCustomStatus = state.Status,
        FailureDetails = ToFailure(state.FailureDetails)
            ?? (state.OrchestrationStatus == OrchestrationStatus.Failed ? new TaskFailureDetails("Unknown", state.Output ?? "failed", null, null, null) : null),
    };

    private static TaskFailureDetails? ToFailure(CoreFailure? failure) => failure is null
        ? null
        : new TaskFailureDetails(failure.ErrorType, failure.ErrorMessage, failure.StackTrace, ToFailure(failure.InnerFailure), null);
}
