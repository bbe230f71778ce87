using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Http;

namespace Orchestrator.Core.Api;

/// <summary>Reads a JSON body within the size limit, answering malformed or oversized bodies with a problem.</summary>
public static class RequestBodies
{
    private static readonly JsonDocumentOptions DocumentOptions = new() { MaxDepth = 64, CommentHandling = JsonCommentHandling.Skip };

    public static async Task<(JsonNode? Body, IResult? Problem)> ReadJsonAsync(HttpRequest request, int maxBytes, bool required, CancellationToken cancellationToken)
    {
        if (request.ContentLength > maxBytes)
        {
            return (null, Problems.PayloadTooLarge(maxBytes));
        }

        using var buffer = new MemoryStream();
        var chunk = new byte[16 * 1024];
        int read;
        while ((read = await request.Body.ReadAsync(chunk, cancellationToken)) > 0)
        {
            if (buffer.Length + read > maxBytes)
            {
                return (null, Problems.PayloadTooLarge(maxBytes));
            }

            buffer.Write(chunk, 0, read);
        }

        if (buffer.Length == 0)
        {
            return required ? (null, Problems.BadRequest("body", "the request body is empty; send a JSON object")) : (null, null);
        }

        try
        {
            var node = JsonNode.Parse(buffer.ToArray(), documentOptions: DocumentOptions);
            return (node, null);
        }
        catch (JsonException ex)
        {
            var where = ex.LineNumber is { } line ? $" (line {line + 1}, byte {ex.BytePositionInLine + 1})" : string.Empty;
            return (null, Problems.BadRequest("body", $"the body is not valid JSON{where}"));
        }
    }
}
