using System.Net.Sockets;
using System.Text;

namespace Orchestrator.Server.Tests.Infrastructure;

/// <summary>
/// HTTP/1.1 written byte for byte on a socket, one request per connection: for requests HttpClient refuses to send
/// (control characters in the path, invalid method tokens, any content type, a chunked body of any bytes).
/// </summary>
public static class RawHttp
{
    /// <summary>A response as it came off the wire.</summary>
    public sealed record Response(int Status, IReadOnlyDictionary<string, string> Headers, byte[] Body)
    {
        public string? ContentType => Headers.TryGetValue("content-type", out var value) ? value : null;

        public string Text => Encoding.UTF8.GetString(Body);
    }

    /// <summary>
    /// Sends <paramref name="target"/> (the request-target, sent as Latin-1 so every char below U+0100 goes out as
    /// that byte) and reads the response until the Server closes the connection.
    /// </summary>
    public static async Task<Response> SendAsync(
        Uri server, string method, string target, string? contentType, byte[]? body, bool chunked, TimeSpan timeout, string? authorization = null)
    {
        using var cancellation = new CancellationTokenSource(timeout);
        using var client = new TcpClient();
        await client.ConnectAsync(server.Host, server.Port, cancellation.Token);
        var stream = client.GetStream();

        var head = new StringBuilder();
        head.Append(method).Append(' ').Append(target).Append(" HTTP/1.1\r\n");
        head.Append("Host: ").Append(server.Authority).Append("\r\n");
        head.Append("Connection: close\r\n");
        if (authorization is not null)
        {
            head.Append("Authorization: ").Append(authorization).Append("\r\n");
        }

        if (contentType is not null)
        {
            head.Append("Content-Type: ").Append(contentType).Append("\r\n");
        }

        if (body is not null)
        {
            head.Append(chunked ? "Transfer-Encoding: chunked\r\n" : $"Content-Length: {body.Length}\r\n");
        }

        head.Append("\r\n");

        // Read while writing: a Server that answers 413 or 415 without reading a large body may close early. The
        // sending side stays open (Kestrel takes a half-close for an aborted request and may drop the response).
        var reading = ReadToEndAsync(stream, cancellation.Token);
        try
        {
            await stream.WriteAsync(Encoding.Latin1.GetBytes(head.ToString()), cancellation.Token);
            if (body is not null)
            {
                await stream.WriteAsync(chunked ? Chunk(body) : body, cancellation.Token);
            }
        }
        catch (Exception ex) when (ex is IOException or SocketException)
        {
            // The response (already on its way) says why the Server stopped reading.
        }

        return Parse(await reading);
    }

    private static byte[] Chunk(byte[] body)
    {
        using var chunked = new MemoryStream();
        for (var offset = 0; offset < body.Length; offset += 8192)
        {
            var length = Math.Min(8192, body.Length - offset);
            chunked.Write(Encoding.ASCII.GetBytes($"{length:x}\r\n"));
            chunked.Write(body, offset, length);
            chunked.Write("\r\n"u8);
        }

        chunked.Write("0\r\n\r\n"u8);
        return chunked.ToArray();
    }

    private static async Task<byte[]> ReadToEndAsync(NetworkStream stream, CancellationToken cancellationToken)
    {
        using var received = new MemoryStream();
        var buffer = new byte[16 * 1024];
        try
        {
            int read;
            while ((read = await stream.ReadAsync(buffer, cancellationToken)) > 0)
            {
                received.Write(buffer, 0, read);
            }
        }
        catch (Exception ex) when (ex is IOException or SocketException && received.Length > 0)
        {
            // A reset after the response arrived (the Server closed with unread body bytes pending) loses nothing.
        }

        return received.ToArray();
    }

    private static Response Parse(byte[] raw)
    {
        var end = raw.AsSpan().IndexOf("\r\n\r\n"u8);
        if (end < 0)
        {
            throw new InvalidDataException($"no complete response head in {raw.Length} bytes: {Encoding.Latin1.GetString(raw)}");
        }

        var lines = Encoding.Latin1.GetString(raw, 0, end).Split("\r\n");
        var status = int.Parse(lines[0].Split(' ')[1], System.Globalization.CultureInfo.InvariantCulture);
        var headers = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
        foreach (var line in lines.Skip(1))
        {
            var colon = line.IndexOf(':', StringComparison.Ordinal);
            headers[line[..colon].Trim().ToLowerInvariant()] = line[(colon + 1)..].Trim();
        }

        var rest = raw.AsSpan(end + 4);
        var body = headers.TryGetValue("transfer-encoding", out var encoding) && encoding.Contains("chunked", StringComparison.OrdinalIgnoreCase)
            ? Dechunk(rest)
            : rest.ToArray();
        return new Response(status, headers, body);
    }

    private static byte[] Dechunk(ReadOnlySpan<byte> rest)
    {
        using var body = new MemoryStream();
        while (true)
        {
            var lineEnd = rest.IndexOf("\r\n"u8);
            var size = Convert.ToInt32(Encoding.ASCII.GetString(rest[..lineEnd]).Split(';')[0], 16);
            if (size == 0)
            {
                return body.ToArray();
            }

            body.Write(rest.Slice(lineEnd + 2, size));
            rest = rest[(lineEnd + 2 + size + 2)..];
        }
    }
}
