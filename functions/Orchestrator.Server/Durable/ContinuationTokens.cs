using System.Security.Cryptography;
using System.Text;
using Microsoft.AspNetCore.WebUtilities;

namespace Orchestrator.Server.Durable;

/// <summary>
/// Wraps a backend's continuation tokens (Azure Storage's, or the last instance id of a PostgreSQL page) with a
/// checksum. Both take any string as a position (Azurite answers a garbage token with an empty page, a malformed one
/// with the first page again; PostgreSQL would start after whatever id it is given), so a token this server did not
/// hand out is recognised here and refused instead of silently skipping or repeating instances.
/// </summary>
internal static class ContinuationTokens
{
    private const int ChecksumBytes = 8;

    public static string? Seal(string? storageToken)
    {
        if (string.IsNullOrEmpty(storageToken))
        {
            return null;
        }

        var bytes = Encoding.UTF8.GetBytes(storageToken);
        return WebEncoders.Base64UrlEncode(bytes) + "." + Convert.ToHexStringLower(Checksum(bytes));
    }

    /// <summary>The storage token inside a sealed one; <see cref="ArgumentException"/> when it was not sealed here.</summary>
    public static string? Open(string? continuationToken)
    {
        if (string.IsNullOrEmpty(continuationToken))
        {
            return null;
        }

        var dot = continuationToken.IndexOf('.', StringComparison.Ordinal);
        if (dot > 0 && TryDecode(continuationToken[..dot], out var bytes) && continuationToken[(dot + 1)..] == Convert.ToHexStringLower(Checksum(bytes)))
        {
            return Encoding.UTF8.GetString(bytes);
        }

        throw new ArgumentException("The continuation token was not issued by this server or was altered.", nameof(continuationToken));
    }

    private static byte[] Checksum(byte[] bytes) => SHA256.HashData(bytes)[..ChecksumBytes];

    private static bool TryDecode(string text, out byte[] bytes)
    {
        try
        {
            bytes = WebEncoders.Base64UrlDecode(text);
            return true;
        }
        catch (FormatException)
        {
            bytes = [];
            return false;
        }
    }
}
