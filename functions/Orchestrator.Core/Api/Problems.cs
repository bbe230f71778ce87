using Microsoft.AspNetCore.Http;
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

    public static IResult NotFound(string id) => TypedResults.Problem(
        title: "The workflow run does not exist.",
        detail: $"No run has id '{id}'.",
        statusCode: StatusCodes.Status404NotFound,
        type: TypeBase + "not-found",
        extensions: new Dictionary<string, object?> { ["id"] = id });

    public static IResult Conflict(string id, string? runStatus, string message) => TypedResults.Problem(
        title: "The run is not in a state that allows this.",
        detail: message,
        statusCode: StatusCodes.Status409Conflict,
        type: TypeBase + "conflict",
        extensions: new Dictionary<string, object?> { ["id"] = id, ["runStatus"] = runStatus });

    public static IResult Unavailable(string message) => TypedResults.Problem(
        title: "The service cannot take this request now.",
        detail: message,
        statusCode: StatusCodes.Status503ServiceUnavailable,
        type: TypeBase + "unavailable");

    public static IResult NotImplemented(string message) => TypedResults.Problem(
        title: "Not supported by this host.",
        detail: message,
        statusCode: StatusCodes.Status501NotImplemented,
        type: TypeBase + "not-implemented");
}
