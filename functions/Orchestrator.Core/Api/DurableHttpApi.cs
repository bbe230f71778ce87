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

    public static async Task<IResult> GetStatusAsync(string id, DurableTaskClient client, bool showInput, CancellationToken cancellationToken)
    {
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
            ["input"] = showInput ? Parse(instance.SerializedInput) : null,
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
        var outcome = await runs.CancelAsync(client, id, string.IsNullOrWhiteSpace(reason) ? "terminated through the Durable HTTP API" : reason, cancellationToken);
        return outcome.Kind switch
        {
            RunOutcomeKind.NotFound => Problems.NotFound(id),
            RunOutcomeKind.Conflict => Problems.Conflict(id, outcome.RunStatus, outcome.Message!),
            _ => TypedResults.Accepted((string?)null),
        };
    }

    public async Task<IResult> RaiseEventAsync(HttpRequest request, string id, string eventName, DurableTaskClient client, CancellationToken cancellationToken)
    {
        var (body, problem) = await RequestBodies.ReadJsonAsync(request, options.Value.MaxRequestBytes, required: false, cancellationToken);
        if (problem is not null)
        {
            return problem;
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
        var result = await client.PurgeInstanceAsync(id, cancellation: cancellationToken);
        return result.PurgedInstanceCount == 0 ? Problems.NotFound(id) : TypedResults.Ok(new { instancesDeleted = result.PurgedInstanceCount });
    }

    /// <summary>Restart is not offered: a failed or cancelled run is retried, reusing its completed steps.</summary>
    public static IResult Restart(string id) =>
        Problems.NotImplemented($"restart is not supported; use POST /api/v1/workflows/{id}/retry for a failed or cancelled run");

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
