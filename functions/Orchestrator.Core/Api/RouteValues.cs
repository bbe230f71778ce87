using System.Buffers;
using Microsoft.AspNetCore.Http;
using Orchestrator.Core.Workflows;

namespace Orchestrator.Core.Api;

/// <summary>
/// Checks the values every route takes from its path or query before anything looks them up in PostgreSQL or the
/// task hub, so a hostile id or name is answered 400 naming it, and never reaches SQL, a storage key or a log line.
/// </summary>
public static class RouteValues
{
    /// <summary>Longest free-text reason (cancel, terminate, suspend) that is stored or passed on.</summary>
    public const int MaxReasonLength = 1000;

    private const int MaxDefinitionReferenceLength = 120;

    // The workflow language's own rules: event names as in the schema's "event" pattern, which step ids (the default
    // event name) also satisfy; definition names as in its "name" pattern, optionally followed by @version.
    private static readonly SearchValues<char> EventNameCharacters =
        SearchValues.Create("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.-");

    private static readonly SearchValues<char> DefinitionReferenceCharacters =
        SearchValues.Create("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.-@");

    public static IResult? CheckRunId(string id) => RunIds.IsValid(id) ? null : Problems.BadRequest("id", RunIds.Rule);

    public static IResult? CheckEventName(string name, string field = "name") =>
        name is { Length: > 0 and <= 64 } && !name.AsSpan().ContainsAnyExcept(EventNameCharacters)
            ? null
            : Problems.BadRequest(field, "an event name is 1 to 64 characters: letters, digits, '_', '.' or '-'");

    /// <summary>A definition reference may be misspelt (it gets a 404 with a suggestion); it may not be garbage.</summary>
    public static IResult? CheckDefinitionReference(string reference) =>
        reference is { Length: > 0 and <= MaxDefinitionReferenceLength } && !reference.AsSpan().ContainsAnyExcept(DefinitionReferenceCharacters)
            ? null
            : Problems.BadRequest("name", $"a definition reference is a name or name@version of at most {MaxDefinitionReferenceLength} characters: letters, digits, '_', '.', '-'");

    /// <summary>
    /// An optional reason in a request body (cancel, maintenance): absent is null; present, it must be a string that
    /// <see cref="CheckReason"/> accepts.
    /// </summary>
    public static IResult? ReasonIn(System.Text.Json.Nodes.JsonObject? body, out string? reason, string field = "reason")
    {
        reason = null;
        if (body?[field] is not { } node)
        {
            return null;
        }

        if (node.GetValueKind() != System.Text.Json.JsonValueKind.String)
        {
            return Problems.BadRequest(field, $"must be a string, not {RequestBodies.KindOf(node)}");
        }

        reason = node.GetValue<string>();
        return CheckReason(reason, field);
    }

    /// <summary>Reasons are stored in PostgreSQL text columns, which cannot hold U+0000; other controls are refused too.</summary>
    public static IResult? CheckReason(string? reason, string field = "reason")
    {
        if (reason is null)
        {
            return null;
        }

        if (reason.Length > MaxReasonLength)
        {
            return Problems.BadRequest(field, $"must be at most {MaxReasonLength} characters");
        }

        return reason.Any(c => char.IsControl(c) && c is not ('\n' or '\r' or '\t'))
            ? Problems.BadRequest(field, "must not contain control characters")
            : null;
    }
}
