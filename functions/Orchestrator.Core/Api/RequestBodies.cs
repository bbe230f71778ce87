using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.Unicode;
using Microsoft.AspNetCore.Http;
using Microsoft.Net.Http.Headers;

namespace Orchestrator.Core.Api;

/// <summary>
/// Reads a JSON body within the size limit, answering every body that is not one with a problem: oversized
/// <c>413</c>; a declared non-JSON content type <c>415</c>; invalid UTF-8, malformed JSON, duplicate keys, unpaired
/// surrogates, U+0000 (PostgreSQL cannot store it) or the wrong kind of value <c>400</c>.
/// </summary>
/// <remarks>
/// An absent <c>Content-Type</c> means JSON: <c>curl -X POST .../cancel</c> sends no body and no type, and must keep
/// working. A declared type must be JSON (<c>application/json</c>, <c>text/json</c>, <c>application/*+json</c>) in
/// UTF-8 whenever there is a body; <c>curl -d</c>'s <c>application/x-www-form-urlencoded</c> is refused with a
/// problem saying which header to send. An empty body is no body whatever its declared type.
/// </remarks>
public static class RequestBodies
{
    private static readonly JsonDocumentOptions DocumentOptions = new()
    {
        MaxDepth = 64,
        CommentHandling = JsonCommentHandling.Skip,
        AllowDuplicateProperties = false,
    };

    private static ReadOnlySpan<byte> Utf8Bom => [0xEF, 0xBB, 0xBF];

    /// <summary>The body's JSON (null for no body, and for the JSON literal <c>null</c>), or the problem with it.</summary>
    public static async Task<(JsonNode? Body, IResult? Problem)> ReadJsonAsync(HttpRequest request, int maxBytes, bool required, CancellationToken cancellationToken)
    {
        var (_, body, problem) = await ReadAsync(request, maxBytes, required, cancellationToken);
        return (body, problem);
    }

    /// <summary>
    /// Reads an object body that may hold only <paramref name="fields"/>; anything else — an array, a string, a
    /// number, <c>null</c>, an unknown field — is a 400 naming the body or the field.
    /// </summary>
    public static async Task<(JsonObject? Body, IResult? Problem)> ReadObjectAsync(
        HttpRequest request, int maxBytes, bool required, IReadOnlyList<string> fields, string expected, CancellationToken cancellationToken)
    {
        var (present, body, problem) = await ReadAsync(request, maxBytes, required, cancellationToken);
        if (problem is not null)
        {
            return (null, problem);
        }

        if (!present)
        {
            return (null, null);
        }

        if (body is not JsonObject value)
        {
            return (null, Problems.BadRequest("body", $"must be a JSON object ({expected}), not {KindOf(body)}"));
        }

        var unknown = value.Select(p => p.Key).FirstOrDefault(k => !fields.Contains(k));
        if (unknown is not null)
        {
            var allowed = fields.Count == 0 ? "this request takes no fields" : "expected " + string.Join(", ", fields);
            return (null, Problems.BadRequest(unknown, $"unknown field '{unknown}'; {allowed}"));
        }

        return (value, null);
    }

    private static async Task<(bool Present, JsonNode? Body, IResult? Problem)> ReadAsync(HttpRequest request, int maxBytes, bool required, CancellationToken cancellationToken)
    {
        var isJson = IsJsonContentType(request.ContentType);
        if (!isJson && request.ContentLength > 0)
        {
            return (false, null, Problems.UnsupportedMediaType());
        }

        if (request.ContentLength > maxBytes)
        {
            return (false, null, Problems.PayloadTooLarge(maxBytes));
        }

        using var buffer = new MemoryStream();
        var chunk = new byte[16 * 1024];
        int read;
        while ((read = await request.Body.ReadAsync(chunk, cancellationToken)) > 0)
        {
            if (buffer.Length + read > maxBytes)
            {
                return (false, null, Problems.PayloadTooLarge(maxBytes));
            }

            buffer.Write(chunk, 0, read);
        }

        if (buffer.Length == 0)
        {
            return required ? (false, null, Problems.BadRequest("body", "the request body is empty; send a JSON object")) : (false, null, null);
        }

        if (!isJson)
        {
            return (false, null, Problems.UnsupportedMediaType());
        }

        var bytes = buffer.GetBuffer().AsMemory(0, (int)buffer.Length);
        if (bytes.Span.StartsWith(Utf8Bom))
        {
            bytes = bytes[Utf8Bom.Length..];
        }

        if (!Utf8.IsValid(bytes.Span))
        {
            return (true, null, Problems.BadRequest("body", "the body is not valid UTF-8"));
        }

        try
        {
            var node = JsonNode.Parse(bytes.Span, documentOptions: DocumentOptions);
            // JsonNode materialises names and strings lazily; doing it here turns what would throw later, deep in a
            // handler, into a 400 now.
            var unstorable = FindUnstorableString(node);
            return unstorable is null
                ? (true, node, null)
                : (true, null, Problems.BadRequest(unstorable, "must not contain U+0000 (\\u0000)"));
        }
        catch (JsonException ex)
        {
            var where = ex.LineNumber is { } line ? $" (line {line + 1}, byte {ex.BytePositionInLine + 1})" : string.Empty;
            var duplicate = ex.Message.StartsWith("Duplicate property", StringComparison.Ordinal) ? ": a key appears twice in one object" : string.Empty;
            return (true, null, Problems.BadRequest("body", $"the body is not valid JSON{where}{duplicate}"));
        }
        catch (InvalidOperationException)
        {
            return (true, null, Problems.BadRequest("body", "the body holds a \\u escape that is not valid UTF-16 (an unpaired surrogate)"));
        }
    }

    /// <summary>"an array", "a string", ... for messages about a value of the wrong kind.</summary>
    public static string KindOf(JsonNode? node) => node?.GetValueKind() switch
    {
        null or JsonValueKind.Null => "null",
        JsonValueKind.Array => "an array",
        JsonValueKind.Object => "an object",
        JsonValueKind.String => "a string",
        JsonValueKind.Number => "a number",
        _ => "a boolean",
    };

    private static bool IsJsonContentType(string? contentType)
    {
        if (contentType is null)
        {
            return true;
        }

        if (!MediaTypeHeaderValue.TryParse(contentType, out var parsed) || parsed.MatchesAllTypes || parsed.MatchesAllSubTypes)
        {
            return false;
        }

        var charset = parsed.Charset;
        if (charset.HasValue && !(charset.Equals("utf-8", StringComparison.OrdinalIgnoreCase) || charset.Equals("utf8", StringComparison.OrdinalIgnoreCase)))
        {
            return false;
        }

        var type = parsed.MediaType;
        return type.Equals("application/json", StringComparison.OrdinalIgnoreCase)
            || type.Equals("text/json", StringComparison.OrdinalIgnoreCase)
            || (type.StartsWith("application/", StringComparison.OrdinalIgnoreCase) && type.EndsWith("+json", StringComparison.OrdinalIgnoreCase));
    }

    /// <summary>The path (as the API names fields: <c>input.text</c>, or <c>body</c>) of the first name or string holding U+0000.</summary>
    private static string? FindUnstorableString(JsonNode? node)
    {
        switch (node)
        {
            case JsonObject value:
                foreach (var (key, child) in value)
                {
                    if (key.Contains('\0', StringComparison.Ordinal))
                    {
                        return FieldPath(value);
                    }

                    if (FindUnstorableString(child) is { } found)
                    {
                        return found;
                    }
                }

                return null;
            case JsonArray array:
                foreach (var child in array)
                {
                    if (FindUnstorableString(child) is { } found)
                    {
                        return found;
                    }
                }

                return null;
            case JsonValue value when value.GetValueKind() == JsonValueKind.String:
                return value.GetValue<string>().Contains('\0', StringComparison.Ordinal) ? FieldPath(value) : null;
            default:
                return null;
        }
    }

    private static string FieldPath(JsonNode node)
    {
        var path = node.GetPath();
        return path == "$" ? "body" : path.TrimStart('$').TrimStart('.');
    }
}
