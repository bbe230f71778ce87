using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Http;

namespace Orchestrator.Core.Api;

/// <summary>The one shape of event body the workflows wait for, checked on both event routes (workflow API and Durable HTTP API).</summary>
public static class ApprovalDecisions
{
    public const string Shape = "an approval decision is a JSON object with \"approved\": true or false (and an optional \"comment\" string)";

    /// <summary>A 400 naming the field at fault, or null when <paramref name="body"/> is a decision.</summary>
    public static IResult? Check(JsonNode? body)
    {
        if (body is not JsonObject decision)
        {
            return Problems.BadRequest("body", $"{Shape}, not {RequestBodies.KindOf(body)}");
        }

        if (decision["approved"] is not JsonValue approved || approved.GetValueKind() is not (JsonValueKind.True or JsonValueKind.False))
        {
            return Problems.BadRequest("approved", Shape);
        }

        return decision["comment"] is { } comment && comment.GetValueKind() is not (JsonValueKind.String or JsonValueKind.Null)
            ? Problems.BadRequest("comment", $"must be a string, not {RequestBodies.KindOf(comment)}")
            : null;
    }
}
