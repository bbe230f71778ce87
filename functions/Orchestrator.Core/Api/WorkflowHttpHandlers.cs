using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Http;
using Microsoft.DurableTask.Client;
using Microsoft.Extensions.Options;
using Orchestrator.Core.Persistence;
using Orchestrator.Core.Workflows;

namespace Orchestrator.Core.Api;

/// <summary>
/// The workflow API (<c>/api/v1/workflows...</c>) over ASP.NET Core's request and result types, shared by the
/// Server's routes and the Functions app's HTTP triggers.
/// </summary>
public sealed class WorkflowHttpHandlers(
    WorkflowRuns runs,
    WorkflowStore store,
    IOptions<ApiOptions> options,
    Operations.ClusterState cluster)
{
    public const string WorkflowsRoute = "v1/workflows";

    public const int DefaultListLimit = 50;
    public const int MaxListLimit = 500;

    private static readonly string[] ListParameters = ["status", "definition", "createdBefore", "createdAfter", "limit", "cursor"];
    private static readonly string[] StartFields = ["definition", "input", "idempotencyKey"];
    private static readonly string[] CancelFields = ["reason"];

    public async Task<IResult> StartAsync(HttpRequest request, DurableTaskClient client, IStatusQueryPayloadFactory payloads, CancellationToken cancellationToken)
    {
        // Maintenance mode refuses new work only; status, list, cancel, retry and events keep working.
        if (cluster.Maintenance is { Enabled: true } maintenance)
        {
            return Problems.Maintenance(maintenance, cluster.MaintenanceRetryAfter);
        }

        var (start, problem) = await RequestBodies.ReadObjectAsync(
            request, options.Value.MaxRequestBytes, required: true, StartFields, "with 'definition' and 'input'", cancellationToken);
        if (problem is not null)
        {
            return problem;
        }

        string? idempotencyKey = null;
        if (start!["idempotencyKey"] is { } keyNode)
        {
            if (keyNode is not JsonValue keyValue || !keyValue.TryGetValue(out idempotencyKey) || idempotencyKey.Length is 0 or > 200)
            {
                return Problems.BadRequest("idempotencyKey", "must be a string of 1 to 200 characters");
            }

            if (idempotencyKey.StartsWith(WorkflowRuns.RetryKeyPrefix, StringComparison.Ordinal))
            {
                return Problems.BadRequest("idempotencyKey", $"keys starting with '{WorkflowRuns.RetryKeyPrefix}' are reserved for retries");
            }
        }

        if (start["input"] is { } input && input is not JsonObject)
        {
            return Problems.BadRequest("input", "must be a JSON object");
        }

        var outcome = await runs.StartAsync(client, start["definition"], start["input"], idempotencyKey, cancellationToken);
        return await AcceptedAsync(request, client, payloads, outcome);
    }

    /// <summary>
    /// <c>GET /api/v1/workflows?status=&amp;definition=&amp;createdBefore=&amp;createdAfter=&amp;limit=&amp;cursor=</c>: runs newest
    /// first, keyset-paginated; <c>nextCursor</c> continues after the last run of the page.
    /// </summary>
    public async Task<IResult> ListAsync(HttpRequest request, CancellationToken cancellationToken)
    {
        var query = request.Query;
        var errors = new List<Definitions.DefinitionError>();
        QueryParameters.Known(query, ListParameters, errors);
        var statuses = QueryParameters.OneOf(query, "status", RunStatus.All, errors);
        var definition = QueryParameters.Text(query, "definition", errors);
        if (definition is not null && RouteValues.CheckDefinitionReference(definition) is not null)
        {
            errors.Add(new Definitions.DefinitionError("definition", "must be a definition name: letters, digits, '_', '.', '-'"));
        }

        var after = QueryParameters.Time(query, "createdAfter", errors);
        var before = QueryParameters.Time(query, "createdBefore", errors);
        var limit = QueryParameters.PageSize(query, "limit", DefaultListLimit, MaxListLimit, errors);
        RunListCursor? cursor = null;
        if (query.ContainsKey("cursor") && !RunListCursor.TryDecode(query["cursor"].ToString(), out cursor))
        {
            errors.Add(new Definitions.DefinitionError("cursor", "is not a cursor this API returned; pass nextCursor from the previous page unchanged"));
        }

        if (errors.Count > 0)
        {
            return Problems.Validation("The query string is invalid.", errors);
        }

        var rows = await store.ListRunsAsync(new RunListQuery(statuses, definition, after, before, cursor, limit), cancellationToken);
        var page = rows.Take(limit).ToList();
        var next = rows.Count > limit ? new RunListCursor(page[^1].CreatedAt, page[^1].Id).Encode() : null;
        return TypedResults.Ok(new
        {
            items = page.Select(r => new
            {
                r.Id,
                definition = $"{r.DefinitionName}@{r.DefinitionVersion}",
                r.Status,
                progress = new ProgressView(r.StepsFinished, r.StepsTotal),
                r.LastCheckpoint,
                r.Error,
                r.RetryOf,
                tokens = new TokensView(r.TokensIn, r.TokensOut),
                r.CostUsd,
                r.CreatedAt,
                r.UpdatedAt,
                r.CompletedAt,
            }),
            count = page.Count,
            nextCursor = next,
        });
    }

    public async Task<IResult> GetAsync(string id, CancellationToken cancellationToken)
    {
        if (RouteValues.CheckRunId(id) is { } invalid)
        {
            return invalid;
        }

        var run = await store.GetRunAsync(id, cancellationToken);
        if (run is null)
        {
            return Problems.NotFound(id);
        }

        var steps = await store.GetStepsAsync(id, cancellationToken);
        var retries = await store.GetRetriesAsync(id, cancellationToken);
        return TypedResults.Ok(WorkflowStatusResponse.From(run, steps, retries));
    }

    public async Task<IResult> CancelAsync(HttpRequest request, string id, DurableTaskClient client, CancellationToken cancellationToken)
    {
        if (RouteValues.CheckRunId(id) is { } invalid)
        {
            return invalid;
        }

        var (body, problem) = await RequestBodies.ReadObjectAsync(
            request, options.Value.MaxRequestBytes, required: false, CancelFields, "with an optional 'reason'", cancellationToken);
        if (problem is not null)
        {
            return problem;
        }

        if (RouteValues.ReasonIn(body, out var given) is { } badReason)
        {
            return badReason;
        }

        var reason = given ?? "cancelled by request";
        var outcome = await runs.CancelAsync(client, id, reason, cancellationToken);
        return outcome.Kind switch
        {
            RunOutcomeKind.NotFound => Problems.NotFound(id),
            RunOutcomeKind.Conflict => Problems.Conflict(id, outcome.RunStatus, outcome.Message!),
            _ => TypedResults.Ok(new { id, status = RunStatus.Cancelled, reason }),
        };
    }

    public async Task<IResult> RetryAsync(HttpRequest request, string id, DurableTaskClient client, IStatusQueryPayloadFactory payloads, CancellationToken cancellationToken)
    {
        if (RouteValues.CheckRunId(id) is { } invalid)
        {
            return invalid;
        }

        // A retry takes nothing from the body: it reruns the original request. Any body must still be JSON.
        var (_, problem) = await RequestBodies.ReadObjectAsync(
            request, options.Value.MaxRequestBytes, required: false, [], "with no fields", cancellationToken);
        if (problem is not null)
        {
            return problem;
        }

        var outcome = await runs.RetryAsync(client, id, cancellationToken);
        return outcome.Kind switch
        {
            RunOutcomeKind.NotFound => Problems.NotFound(id),
            RunOutcomeKind.Conflict => Problems.Conflict(id, outcome.RunStatus, outcome.Message!),
            _ => await AcceptedAsync(request, client, payloads, outcome),
        };
    }

    /// <summary>Delivers an external event (an approval decision) to a running workflow that declares it.</summary>
    public async Task<IResult> RaiseEventAsync(HttpRequest request, string id, string name, DurableTaskClient client, CancellationToken cancellationToken)
    {
        if ((RouteValues.CheckRunId(id) ?? RouteValues.CheckEventName(name)) is { } invalid)
        {
            return invalid;
        }

        var (body, problem) = await RequestBodies.ReadJsonAsync(request, options.Value.MaxRequestBytes, required: false, cancellationToken);
        if (problem is not null)
        {
            return problem;
        }

        var run = await store.GetRunAsync(id, cancellationToken);
        if (run is null)
        {
            return Problems.NotFound(id);
        }

        var declared = Definitions.DefinitionJson.Deserialize(run.DefinitionJson).Steps
            .OfType<Definitions.ApprovalStepDefinition>().Select(a => a.EventName).ToList();
        if (!declared.Contains(name))
        {
            var expected = declared.Count == 0 ? "this workflow waits for no events" : "it waits for: " + string.Join(", ", declared);
            return Problems.BadRequest("name", $"unknown event '{name}'{Definitions.Suggestions.Hint(name, declared)}; {expected}");
        }

        if (ApprovalDecisions.Check(body) is { } notADecision)
        {
            return notADecision;
        }

        if (RunStatus.IsTerminal(run.Status))
        {
            return Problems.Conflict(id, run.Status, $"run {id} is {run.Status}; it takes no more events");
        }

        await client.RaiseEventAsync(id, name, body, cancellationToken);
        return TypedResults.Accepted((string?)null, new { id, @event = name });
    }

    private static async Task<IResult> AcceptedAsync(HttpRequest request, DurableTaskClient client, IStatusQueryPayloadFactory payloads, RunOutcome outcome)
    {
        switch (outcome.Kind)
        {
            case RunOutcomeKind.Invalid:
                return Problems.Validation("The workflow request is invalid.", outcome.Errors);
            case RunOutcomeKind.Unavailable:
                return Problems.Unavailable(outcome.Message!);
            case RunOutcomeKind.NotFound:
                return Problems.NotFound(outcome.RunId ?? string.Empty);
        }

        var payload = await payloads.CreateAsync(request, client, outcome.RunId!);
        var location = $"{request.Scheme}://{request.Host}{request.PathBase}/api/{WorkflowsRoute}/{outcome.RunId}";
        return outcome.Kind == RunOutcomeKind.AlreadyExists
            ? TypedResults.Ok(payload)
            : TypedResults.Accepted(location, payload);
    }
}
