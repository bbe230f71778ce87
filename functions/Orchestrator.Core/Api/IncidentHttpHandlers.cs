using System.Text.Json;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Orchestrator.Core.Auth;
using Orchestrator.Core.Definitions;
using Orchestrator.Core.Incidents;

namespace Orchestrator.Core.Api;

/// <summary>
/// The incident API (<c>/api/v1/incidents...</c>), shared by the Server's routes and the Functions app's HTTP
/// triggers: the list, one incident with its timeline, its Markdown summary, and acknowledge / resolve by hand (the
/// admin token; the actor is recorded).
/// </summary>
public sealed class IncidentHttpHandlers(
    IncidentQueries queries,
    IncidentEngine engine,
    IOptions<ApiOptions> options,
    TimeProvider time,
    ILogger<IncidentHttpHandlers> logger)
{
    public const string IncidentsRoute = "v1/incidents";

    public const int DefaultListLimit = 50;
    public const int MaxListLimit = 200;

    /// <summary>The <c>status</c> filter's words: the stored statuses, and <c>unresolved</c> for open or acknowledged.</summary>
    public const string Unresolved = "unresolved";

    private static readonly string[] ListParameters = ["severity", "status", "limit", "cursor"];
    private static readonly string[] Severities = Enum.GetNames<Severity>();
    private static readonly string[] StatusFilters = [IncidentStatus.Open, IncidentStatus.Acknowledged, IncidentStatus.Resolved, Unresolved];
    private static readonly string[] ResolveFields = ["resolution"];

    /// <summary>
    /// <c>GET /api/v1/incidents?severity=&amp;status=&amp;limit=&amp;cursor=</c>: incidents newest first (by opening),
    /// keyset-paginated; <c>nextCursor</c> continues after the last one of the page.
    /// </summary>
    public async Task<IResult> ListAsync(HttpRequest request, CancellationToken cancellationToken)
    {
        var query = request.Query;
        var errors = new List<DefinitionError>();
        QueryParameters.Known(query, ListParameters, errors);
        var severities = QueryParameters.OneOf(query, "severity", Severities, errors, repeatable: true);
        var statuses = QueryParameters.OneOf(query, "status", StatusFilters, errors, repeatable: true);
        var limit = QueryParameters.PageSize(query, "limit", DefaultListLimit, MaxListLimit, errors);
        IncidentListCursor? cursor = null;
        if (query.ContainsKey("cursor") && !IncidentListCursor.TryDecode(query["cursor"].ToString(), out cursor))
        {
            errors.Add(new DefinitionError("cursor", "is not a cursor this API returned; pass nextCursor from the previous page unchanged"));
        }

        if (errors.Count > 0)
        {
            return Problems.Validation("The query string is invalid.", errors);
        }

        var stored = statuses?.SelectMany(s => s == Unresolved ? [IncidentStatus.Open, IncidentStatus.Acknowledged] : new[] { s }).Distinct().ToList();
        var rows = await queries.ListAsync(new IncidentListQuery(severities, stored, cursor, limit), cancellationToken);
        var page = rows.Take(limit).ToList();
        var next = rows.Count > limit ? new IncidentListCursor(page[^1].OpenedAt, page[^1].Id).Encode() : null;
        var now = time.GetUtcNow();
        return TypedResults.Ok(new { items = page.Select(i => View(i, now)), count = page.Count, nextCursor = next });
    }

    /// <summary><c>GET /api/v1/incidents/{id}</c>: the incident, its state changes and its notices with their delivery.</summary>
    public async Task<IResult> GetAsync(string id, CancellationToken cancellationToken)
    {
        if (!TryParseId(id, out var incidentId))
        {
            return UnknownIncident(id);
        }

        return await queries.GetAsync(incidentId, cancellationToken) is { } detail ? TypedResults.Ok(View(detail)) : UnknownIncident(id);
    }

    /// <summary><c>GET /api/v1/incidents/{id}/report</c>: the incident summary in Markdown.</summary>
    public async Task<IResult> ReportAsync(string id, CancellationToken cancellationToken)
    {
        if (!TryParseId(id, out var incidentId))
        {
            return UnknownIncident(id);
        }

        return await queries.ReportAsync(incidentId, cancellationToken) is { } report
            ? TypedResults.Text(report, "text/markdown; charset=utf-8")
            : UnknownIncident(id);
    }

    /// <summary><c>POST /api/v1/incidents/{id}/acknowledge</c> (no body, or an empty object): someone is on it.</summary>
    public async Task<IResult> AcknowledgeAsync(HttpRequest request, string id, CancellationToken cancellationToken)
    {
        if (!TryParseId(id, out var incidentId))
        {
            return UnknownIncident(id);
        }

        var (_, problem) = await RequestBodies.ReadObjectAsync(
            request, options.Value.MaxRequestBytes, required: false, [], "with no fields", cancellationToken);
        if (problem is not null)
        {
            return problem;
        }

        var actor = AuthPolicies.ActorOf(request.HttpContext.User);
        var change = await engine.AcknowledgeAsync(incidentId, actor, cancellationToken);
        return await AnswerAsync(incidentId, actor, "acknowledge", change, cancellationToken);
    }

    /// <summary><c>POST /api/v1/incidents/{id}/resolve</c> with an optional <c>{"resolution": "…"}</c>: resolved by hand, saying who.</summary>
    public async Task<IResult> ResolveAsync(HttpRequest request, string id, CancellationToken cancellationToken)
    {
        if (!TryParseId(id, out var incidentId))
        {
            return UnknownIncident(id);
        }

        var (body, problem) = await RequestBodies.ReadObjectAsync(
            request, options.Value.MaxRequestBytes, required: false, ResolveFields, "with an optional 'resolution'", cancellationToken);
        if (problem is not null)
        {
            return problem;
        }

        if (RouteValues.ReasonIn(body, out var resolution, "resolution") is { } badResolution)
        {
            return badResolution;
        }

        var actor = AuthPolicies.ActorOf(request.HttpContext.User);
        var change = await engine.ResolveAsync(incidentId, actor, resolution, cancellationToken);
        return await AnswerAsync(incidentId, actor, "resolve", change, cancellationToken);
    }

    private async Task<IResult> AnswerAsync(Guid id, string actor, string action, IncidentChange change, CancellationToken cancellationToken)
    {
        Log.IncidentChangedByHand(logger, actor, action, id, change.ToString());
        var detail = change == IncidentChange.NotFound ? null : await queries.GetAsync(id, cancellationToken);
        if (detail is null)
        {
            return UnknownIncident(id.ToString("D"));
        }

        if (change == IncidentChange.Changed)
        {
            return TypedResults.Ok(View(detail));
        }

        var incident = detail.Incident;
        var already = incident.Status == IncidentStatus.Resolved
            ? $"resolved at {incident.ResolvedAt:u} by {incident.ResolvedBy}"
            : $"acknowledged at {incident.AcknowledgedAt:u} by {incident.AcknowledgedBy}";
        return Problems.IncidentConflict(id, incident.Status, $"incident {id:D} was already {already}; nothing changed");
    }

    private object View(IncidentDetail detail) => new
    {
        incident = View(detail.Incident, time.GetUtcNow()),
        timeline = detail.Events.Select(e => new { e.At, e.Kind, e.Actor, detail = Json(e.DetailJson) }),
        notices = detail.Notices.Select(n => new
        {
            n.Channel,
            n.Kind,
            n.Sequence,
            n.Status,
            n.Attempts,
            n.CreatedAt,
            n.SentAt,
            n.LastStatusCode,
            n.LastError,
        }),
    };

    private static object View(IncidentRecord i, DateTimeOffset now) => new
    {
        i.Id,
        i.Severity,
        i.Status,
        i.Title,
        check = i.CheckName,
        i.DedupKey,
        i.Impact,
        i.Summary,
        i.NextStep,
        facts = Json(i.FactsJson),
        i.StartedAt,
        i.OpenedAt,
        i.LastSeenAt,
        durationSeconds = (long)Math.Max(0, ((i.ResolvedAt ?? now) - i.StartedAt).TotalSeconds),
        i.RtoSeconds,
        i.UpdatesSent,
        i.EscalatedAt,
        i.AcknowledgedAt,
        i.AcknowledgedBy,
        i.ResolvedAt,
        i.ResolvedBy,
        i.Resolution,
    };

    private static JsonElement? Json(string? json)
    {
        if (json is null)
        {
            return null;
        }

        using var document = JsonDocument.Parse(json);
        return document.RootElement.Clone();
    }

    /// <summary>Incident ids are UUIDs; anything else names no incident, so it is answered as an unknown one.</summary>
    private static bool TryParseId(string id, out Guid incidentId) => Guid.TryParse(id, out incidentId);

    private static IResult UnknownIncident(string id) => Problems.NotFound(
        "id",
        Guid.TryParse(id, out var parsed) ? $"no incident has id '{parsed:D}'" : "no incident has this id (incident ids are UUIDs)");
}
