using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.WebUtilities;
using Orchestrator.Core.Definitions;

namespace Orchestrator.Core.Api;

/// <summary>RFC 7807 problem details for every error the API answers; each names the field at fault.</summary>
public static class Problems
{
    private const string TypeBase = "https://llm-orchestrator.dev/problems/";

    public static IResult Validation(string title, IReadOnlyList<DefinitionError> errors) => TypedResults.Problem(
        title: title,
        detail: string.Join("\n", errors.Select(e => e.ToString())),
        statusCode: StatusCodes.Status400BadRequest,
        type: TypeBase + "validation",
        extensions: new Dictionary<string, object?>
        {
            ["errors"] = errors.Select(e => new Dictionary<string, string> { ["path"] = e.Path, ["message"] = e.Message }).ToList(),
        });

    public static IResult BadRequest(string field, string message) =>
        Validation("The request is invalid.", [new DefinitionError(field, message)]);

    public static IResult PayloadTooLarge(long limit) => TypedResults.Problem(
        title: "The request body is too large.",
        detail: $"The body exceeds the limit of {limit} bytes.",
        statusCode: StatusCodes.Status413PayloadTooLarge,
        type: TypeBase + "payload-too-large");

    public static IResult UnsupportedMediaType() => TypedResults.Problem(
        title: "The request body is not JSON.",
        detail: "Send the body as JSON in UTF-8 with 'Content-Type: application/json' (curl: --json, or -H 'Content-Type: application/json' with -d), or send no body.",
        statusCode: StatusCodes.Status415UnsupportedMediaType,
        type: TypeBase + "unsupported-media-type");

    /// <summary>
    /// The problem for a status the host answers without a handler — an unknown route (404), a known route with another
    /// method (405; routing has already set <c>Allow</c>), a request it could not bind (400) or an unhandled error.
    /// </summary>
    public static IResult ForStatus(int statusCode, string? detail = null) => TypedResults.Problem(
        title: statusCode switch
        {
            StatusCodes.Status404NotFound => "There is no such route.",
            StatusCodes.Status405MethodNotAllowed => "The route does not take this method.",
            _ => ReasonPhrases.GetReasonPhrase(statusCode) is { Length: > 0 } phrase ? phrase : "The request failed.",
        },
        detail: detail ?? statusCode switch
        {
            StatusCodes.Status404NotFound => "No route matches this path.",
            StatusCodes.Status405MethodNotAllowed => "The Allow header lists the methods this route takes.",
            >= 500 => "The error has been logged.",
            _ => null,
        },
        statusCode: statusCode,
        type: TypeBase + statusCode switch
        {
            StatusCodes.Status404NotFound => "not-found",
            StatusCodes.Status405MethodNotAllowed => "method-not-allowed",
            StatusCodes.Status400BadRequest => "bad-request",
            _ => statusCode.ToString(System.Globalization.CultureInfo.InvariantCulture),
        });

    public static IResult NotFound(string id) => TypedResults.Problem(
        title: "The workflow run does not exist.",
        detail: $"No run has id '{id}'.",
        statusCode: StatusCodes.Status404NotFound,
        type: TypeBase + "not-found",
        extensions: new Dictionary<string, object?> { ["id"] = id });

    /// <summary>A named thing (a breaker, a definition) that does not exist, with the field that named it.</summary>
    public static IResult NotFound(string field, string message) => TypedResults.Problem(
        title: "Not found.",
        detail: message,
        statusCode: StatusCodes.Status404NotFound,
        type: TypeBase + "not-found",
        extensions: new Dictionary<string, object?>
        {
            ["errors"] = new List<Dictionary<string, string>> { new() { ["path"] = field, ["message"] = message } },
        });

    public static IResult NothingMatches(string message) => TypedResults.Problem(
        title: "Nothing matches the filter.",
        detail: message,
        statusCode: StatusCodes.Status404NotFound,
        type: TypeBase + "not-found");

    public static IResult Conflict(string id, string? runStatus, string message) => TypedResults.Problem(
        title: "The run is not in a state that allows this.",
        detail: message,
        statusCode: StatusCodes.Status409Conflict,
        type: TypeBase + "conflict",
        extensions: new Dictionary<string, object?> { ["id"] = id, ["runStatus"] = runStatus });

    /// <summary>An incident that is already in the state asked for (acknowledged, resolved): nothing changed.</summary>
    public static IResult IncidentConflict(Guid id, string incidentStatus, string message) => TypedResults.Problem(
        title: "The incident is not in a state that allows this.",
        detail: message,
        statusCode: StatusCodes.Status409Conflict,
        type: TypeBase + "conflict",
        extensions: new Dictionary<string, object?> { ["id"] = id, ["incidentStatus"] = incidentStatus });

    /// <summary>The Durable HTTP API's answer for an instance that has finished and takes no more operations.</summary>
    public static IResult Gone(string id, string? runtimeStatus, string message) => TypedResults.Problem(
        title: "The instance has finished.",
        detail: message,
        statusCode: StatusCodes.Status410Gone,
        type: TypeBase + "gone",
        extensions: new Dictionary<string, object?> { ["id"] = id, ["runtimeStatus"] = runtimeStatus });

    public static IResult Unavailable(string message) => TypedResults.Problem(
        title: "The service cannot take this request now.",
        detail: message,
        statusCode: StatusCodes.Status503ServiceUnavailable,
        type: TypeBase + "unavailable");

    public static IResult Unauthorized(string needed, bool tokenPresented) => TypedResults.Problem(
        title: tokenPresented ? "The bearer token is not valid." : "A bearer token is required.",
        detail: needed,
        statusCode: StatusCodes.Status401Unauthorized,
        type: TypeBase + "unauthorized");

    public static IResult Forbidden(string needed) => TypedResults.Problem(
        title: "This token may not use this route.",
        detail: needed,
        statusCode: StatusCodes.Status403Forbidden,
        type: TypeBase + "forbidden");

    /// <summary>Maintenance mode refuses new work: <c>503</c> with <c>Retry-After</c>; everything else keeps working.</summary>
    public static IResult Maintenance(Operations.MaintenanceState state, TimeSpan retryAfter) => new WithHeaderResult(
        TypedResults.Problem(
            title: "Maintenance mode is on: new workflows are not accepted.",
            detail: $"Maintenance mode has been on since {state.Since:u}{(string.IsNullOrEmpty(state.Reason) ? "" : " (" + state.Reason + ")")}. " +
                    "Status, list, cancel, retry and events keep working, and running workflows finish. Retry later.",
            statusCode: StatusCodes.Status503ServiceUnavailable,
            type: TypeBase + "maintenance",
            extensions: new Dictionary<string, object?> { ["maintenance"] = true, ["since"] = state.Since }),
        "Retry-After",
        ((int)Math.Ceiling(retryAfter.TotalSeconds)).ToString(System.Globalization.CultureInfo.InvariantCulture));

    public static IResult NotImplemented(string message) => TypedResults.Problem(
        title: "Not supported by this host.",
        detail: message,
        statusCode: StatusCodes.Status501NotImplemented,
        type: TypeBase + "not-implemented");
}
