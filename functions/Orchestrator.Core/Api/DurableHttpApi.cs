using System.Text.Json;
using Microsoft.AspNetCore.Http;
using Microsoft.DurableTask.Client;
using Microsoft.Extensions.Options;
using Orchestrator.Core.Workflows;

namespace Orchestrator.Core.Api;

/// <summary>
/// The Durable Functions HTTP API (<c>/runtime/webhooks/durabletask/instances/{id}...</c>) for hosts without the
/// Functions host, so the status-query URLs handed out at start work everywhere. Terminate goes through the same
/// cancel path as the workflow API, so Postgres never disagrees with the task hub.
/// </summary>
public sealed class DurableHttpApi(WorkflowRuns runs, IOptions<ApiOptions> options)
{
    public const string InstancesRoute = "/runtime/webhooks/durabletask/instances";

    /// <summary>The instance's status; <paramref name="showInput"/> is the raw query value (<c>true</c>, the default, or <c>false</c>).</summary>
    public static async Task<IResult> GetStatusAsync(string id, DurableTaskClient client, string? showInput, CancellationToken cancellationToken)
    {
        if (RouteValues.CheckRunId(id) is { } invalid)
        {
            return invalid;
        }

        var includeInput = true;
        if (showInput is not null && !bool.TryParse(showInput, out includeInput))
        {
            return Problems.BadRequest("showInput", "must be true or false");
        }

        var instance = await client.GetInstanceAsync(id, getInputsAndOutputs: true, cancellationToken);
        if (instance is null)
        {
            return Problems.NotFound(id);
        }

        var body = new Dictionary<string, object?>
        {
            ["name"] = instance.Name,
            ["instanceId"] = instance.InstanceId,
            ["runtimeStatus"] = instance.RuntimeStatus.ToString(),
            ["input"] = includeInput ? Parse(instance.SerializedInput) : null,
            ["customStatus"] = Parse(instance.SerializedCustomStatus),
            ["output"] = instance.RuntimeStatus == OrchestrationRuntimeStatus.Failed
                ? instance.FailureDetails?.ErrorMessage
                : Parse(instance.SerializedOutput),
            ["createdTime"] = instance.CreatedAt,
            ["lastUpdatedTime"] = instance.LastUpdatedAt,
        };
        var code = instance.RuntimeStatus is OrchestrationRuntimeStatus.Pending or OrchestrationRuntimeStatus.Running
            or OrchestrationRuntimeStatus.Suspended
            ? StatusCodes.Status202Accepted
            : StatusCodes.Status200OK;
        return TypedResults.Json(body, statusCode: code);
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
            RunOutcomeKind.Conflict => Problems.Conflict(id, outcome.RunStatus, outcome.Message!),
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
            return Problems.Conflict(id, instance.RuntimeStatus.ToString(), $"instance {id} is {instance.RuntimeStatus}; it takes no events");
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

    /// <summary>Restart is not offered: a failed or cancelled run is retried, reusing its completed steps.</summary>
    public static IResult Restart(string id) =>
        RouteValues.CheckRunId(id) ?? Problems.NotImplemented($"restart is not supported; use POST /api/v1/workflows/{id}/retry for a failed or cancelled run");

    private static JsonElement? Parse(string? json)
    {
        if (string.IsNullOrEmpty(json))
        {
            return null;
        }

        try
        {
            using var document = JsonDocument.Parse(json);
            return document.RootElement.Clone();
        }
        catch (JsonException)
        {
            return JsonSerializer.SerializeToElement(json);
        }
    }
}
