using System.Globalization;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Extensions;
using Microsoft.DurableTask.Client;
using Microsoft.Extensions.Options;
using Orchestrator.Core.Definitions;
using Orchestrator.Core.Workflows;

namespace Orchestrator.Core.Api;

/// <summary>
/// The Durable Functions HTTP API (<c>/runtime/webhooks/durabletask/instances...</c>) for hosts without the
/// Functions host, so the status-query URLs handed out at start, and clients written for Durable Functions, work
/// everywhere. Everything goes through <see cref="DurableTaskClient"/>; terminate goes through the same cancel path
/// as the workflow API, so Postgres never disagrees with the task hub.
/// </summary>
public sealed class DurableHttpApi(WorkflowRuns runs, IOptions<ApiOptions> options)
{
    public const string InstancesRoute = "/runtime/webhooks/durabletask/instances";

    /// <summary>The request and response header that carries the position of the next page of a list.</summary>
    public const string ContinuationHeader = "x-ms-continuation-token";

    private const string CreatedTimeFrom = "createdTimeFrom";
    private const string CreatedTimeTo = "createdTimeTo";
    private const string RuntimeStatus = "runtimeStatus";

    public static async Task<IResult> GetStatusAsync(HttpRequest request, string id, DurableTaskClient client, CancellationToken cancellationToken)
    {
        if (RouteValues.CheckRunId(id) is { } invalid)
        {
            return invalid;
        }

        var errors = new List<DefinitionError>();
        var showHistory = QueryParameters.Flag(request.Query, "showHistory", false, errors);
        var showHistoryOutput = QueryParameters.Flag(request.Query, "showHistoryOutput", false, errors);
        var showInput = QueryParameters.Flag(request.Query, "showInput", true, errors);
        if (errors.Count > 0)
        {
            return Problems.Validation("The query string is invalid.", errors);
        }

        var instance = await client.GetInstanceAsync(id, getInputsAndOutputs: true, cancellationToken);
        if (instance is null)
        {
            return Problems.NotFound(id);
        }

        var body = Status(instance, showInput);
        if (showHistory)
        {
            var history = instance.RuntimeStatus == OrchestrationRuntimeStatus.Pending
                ? []
                : await client.GetOrchestrationHistoryAsync(id, cancellationToken);
            body["historyEvents"] = DurableHistory.Shape(history, showHistoryOutput, showInput);
        }

        if (IsInProgress(instance.RuntimeStatus))
        {
            // As the Functions host: poll the same URL, and not in a tight loop.
            request.HttpContext.Response.Headers.Location = request.GetEncodedUrl();
            request.HttpContext.Response.Headers.RetryAfter = "5";
            return TypedResults.Json(body, statusCode: StatusCodes.Status202Accepted);
        }

        return TypedResults.Json(body, statusCode: StatusCodes.Status200OK);
    }

    /// <summary>One page of instances; the next page's position comes back in <see cref="ContinuationHeader"/>.</summary>
    public static async Task<IResult> ListAsync(HttpRequest request, DurableTaskClient client, CancellationToken cancellationToken)
    {
        var errors = new List<DefinitionError>();
        var from = QueryParameters.Time(request.Query, CreatedTimeFrom, errors);
        var to = QueryParameters.Time(request.Query, CreatedTimeTo, errors);
        var statuses = QueryParameters.Statuses(request.Query, RuntimeStatus, errors);
        var prefix = QueryParameters.Text(request.Query, "instanceIdPrefix", errors);
        var showInput = QueryParameters.Flag(request.Query, "showInput", true, errors);
        var top = QueryParameters.PageSize(request.Query, "top", OrchestrationQuery.DefaultPageSize, QueryParameters.MaxTop, errors);
        CheckRange(from, to, errors);
        if (errors.Count > 0)
        {
            return Problems.Validation("The query string is invalid.", errors);
        }

        var continuation = request.Headers[ContinuationHeader].ToString();
        var query = new OrchestrationQuery
        {
            CreatedFrom = from,
            CreatedTo = to,
            Statuses = statuses,
            InstanceIdPrefix = prefix,
            PageSize = top,
            FetchInputsAndOutputs = true,
        };

        Microsoft.DurableTask.Page<OrchestrationMetadata>? page = null;
        try
        {
            await foreach (var first in client.GetAllInstancesAsync(query).AsPages(string.IsNullOrEmpty(continuation) ? null : continuation, top).WithCancellation(cancellationToken))
            {
                page = first;
                break;
            }
        }
        catch (ArgumentException ex) when (ex.ParamName == "continuationToken")
        {
            return Problems.BadRequest(ContinuationHeader, "not a continuation token this server handed out; send back the header of the previous page unchanged");
        }

        if (page?.ContinuationToken is { Length: > 0 } next)
        {
            request.HttpContext.Response.Headers[ContinuationHeader] = next;
        }

        var items = new JsonArray((page?.Values ?? []).Select(JsonNode? (instance) => Status(instance, showInput)).ToArray());
        return TypedResults.Json(items);
    }

    public async Task<IResult> TerminateAsync(string id, string? reason, DurableTaskClient client, CancellationToken cancellationToken)
    {
        if ((RouteValues.CheckRunId(id) ?? RouteValues.CheckReason(reason)) is { } invalid)
        {
            return invalid;
        }

        var outcome = await runs.CancelAsync(client, id, string.IsNullOrWhiteSpace(reason) ? "terminated through the Durable HTTP API" : reason, cancellationToken);
        return outcome.Kind switch
        {
            RunOutcomeKind.NotFound => Problems.NotFound(id),
            RunOutcomeKind.Conflict => Problems.Gone(id, outcome.RunStatus, outcome.Message!),
            _ => TypedResults.Accepted((string?)null),
        };
    }

    /// <summary>
    /// Raises an event on an instance. Every event the workflows wait for is an approval decision, so the body must be
    /// one here too; the workflow API's event route additionally checks that the run declares the event.
    /// </summary>
    public async Task<IResult> RaiseEventAsync(HttpRequest request, string id, string eventName, DurableTaskClient client, CancellationToken cancellationToken)
    {
        if ((RouteValues.CheckRunId(id) ?? RouteValues.CheckEventName(eventName, "eventName")) is { } invalid)
        {
            return invalid;
        }

        var (body, problem) = await RequestBodies.ReadJsonAsync(request, options.Value.MaxRequestBytes, required: true, cancellationToken);
        if (problem is not null)
        {
            return problem;
        }

        if (ApprovalDecisions.Check(body) is { } notADecision)
        {
            return notADecision;
        }

        var instance = await client.GetInstanceAsync(id, cancellationToken);
        if (instance is null)
        {
            return Problems.NotFound(id);
        }

        if (instance.IsCompleted)
        {
            return Problems.Gone(id, instance.RuntimeStatus.ToString(), $"instance {id} is {instance.RuntimeStatus}; it takes no events");
        }

        await client.RaiseEventAsync(id, eventName, body, cancellationToken);
        return TypedResults.Accepted((string?)null);
    }

    public static async Task<IResult> SuspendAsync(string id, string? reason, bool resume, DurableTaskClient client, CancellationToken cancellationToken)
    {
        if ((RouteValues.CheckRunId(id) ?? RouteValues.CheckReason(reason)) is { } invalid)
        {
            return invalid;
        }

        var instance = await client.GetInstanceAsync(id, cancellationToken);
        if (instance is null)
        {
            return Problems.NotFound(id);
        }

        if (instance.IsCompleted)
        {
            return Problems.Gone(id, instance.RuntimeStatus.ToString(), $"instance {id} is {instance.RuntimeStatus}; it can no longer be {(resume ? "resumed" : "suspended")}");
        }

        if (resume)
        {
            await client.ResumeInstanceAsync(id, reason, cancellationToken);
        }
        else
        {
            await client.SuspendInstanceAsync(id, reason, cancellationToken);
        }

        return TypedResults.Accepted((string?)null);
    }

    public static async Task<IResult> PurgeAsync(string id, DurableTaskClient client, CancellationToken cancellationToken)
    {
        if (RouteValues.CheckRunId(id) is { } invalid)
        {
            return invalid;
        }

        var result = await client.PurgeInstanceAsync(id, cancellation: cancellationToken);
        return result.PurgedInstanceCount == 0 ? Problems.NotFound(id) : TypedResults.Ok(new { instancesDeleted = result.PurgedInstanceCount });
    }

    /// <summary>Purges every instance created in a time range (and in the given statuses); <c>createdTimeFrom</c> is required, as in Durable Functions.</summary>
    public static async Task<IResult> PurgeAllAsync(HttpRequest request, DurableTaskClient client, CancellationToken cancellationToken)
    {
        var errors = new List<DefinitionError>();
        var from = QueryParameters.Time(request.Query, CreatedTimeFrom, errors);
        var to = QueryParameters.Time(request.Query, CreatedTimeTo, errors);
        var statuses = QueryParameters.Statuses(request.Query, RuntimeStatus, errors);
        if (from is null && !errors.Any(e => e.Path == CreatedTimeFrom))
        {
            errors.Add(new DefinitionError(CreatedTimeFrom, "required: the earliest creation time of the instances to purge"));
        }

        CheckRange(from, to, errors);
        if (errors.Count > 0)
        {
            return Problems.Validation("The query string is invalid.", errors);
        }

        var result = await client.PurgeAllInstancesAsync(new PurgeInstancesFilter(from, to, statuses), cancellationToken);
        return result.PurgedInstanceCount == 0
            ? Problems.NothingMatches("no instance was created in that time range with one of those statuses; nothing was purged")
            : TypedResults.Ok(new { instancesDeleted = result.PurgedInstanceCount });
    }

    /// <summary>Restart is not offered: a failed or cancelled run is retried, reusing its completed steps.</summary>
    public static IResult Restart(string id) =>
        RouteValues.CheckRunId(id) ?? Problems.NotImplemented($"restart is not supported; use POST /api/v1/workflows/{id}/retry for a failed or cancelled run");

    private static bool IsInProgress(OrchestrationRuntimeStatus status) => status is OrchestrationRuntimeStatus.Pending
        or OrchestrationRuntimeStatus.Running or OrchestrationRuntimeStatus.Suspended;

    private static void CheckRange(DateTimeOffset? from, DateTimeOffset? to, List<DefinitionError> errors)
    {
        if (from > to)
        {
            errors.Add(new DefinitionError(CreatedTimeTo, $"is before {CreatedTimeFrom}"));
        }
    }

    /// <summary>The status payload of the Functions host: times to the second in UTC, payloads as JSON.</summary>
    private static JsonObject Status(OrchestrationMetadata instance, bool showInput) => new()
    {
        ["name"] = instance.Name,
        ["instanceId"] = instance.InstanceId,
        ["runtimeStatus"] = instance.RuntimeStatus.ToString(),
        ["input"] = showInput ? DurableHistory.Payload(instance.SerializedInput) : null,
        ["customStatus"] = DurableHistory.Payload(instance.SerializedCustomStatus),
        ["output"] = instance.RuntimeStatus == OrchestrationRuntimeStatus.Failed
            ? instance.FailureDetails?.ErrorMessage
            : DurableHistory.Payload(instance.SerializedOutput),
        ["createdTime"] = Seconds(instance.CreatedAt),
        ["lastUpdatedTime"] = Seconds(instance.LastUpdatedAt),
    };

    private static string Seconds(DateTimeOffset time) => time.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", CultureInfo.InvariantCulture);
}
