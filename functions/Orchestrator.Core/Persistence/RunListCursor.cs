using System.Buffers.Text;
using System.Globalization;
using System.Text;

namespace Orchestrator.Core.Persistence;

/// <summary>
/// A keyset position in the run list (newest first): the last run's creation time, to the microsecond PostgreSQL
/// keeps, and its id. Opaque to clients (base64url); anything that does not decode to a valid position is refused.
/// </summary>
public sealed record RunListCursor(DateTimeOffset CreatedAt, string Id)
{
    private const string Version = "v1";

    public string Encode()
    {
        var micros = (CreatedAt.UtcTicks - DateTimeOffset.UnixEpoch.UtcTicks) / 10;
        return Base64Url.EncodeToString(Encoding.UTF8.GetBytes($"{Version}:{micros.ToString(CultureInfo.InvariantCulture)}:{Id}"));
    }

    public static bool TryDecode(string text, out RunListCursor? cursor)
    {
        cursor = null;
        if (text.Length is 0 or > 200)
        {
            return false;
        }

        byte[] bytes;
        try
        {
            bytes = Base64Url.DecodeFromChars(text);
        }
        catch (FormatException)
        {
            return false;
        }

        string decoded;
        try
        {
            decoded = new UTF8Encoding(false, true).GetString(bytes);
        }
        catch (DecoderFallbackException)
        {
            return false;
        }

        var parts = decoded.Split(':');
        if (parts.Length != 3 || parts[0] != Version
            || !long.TryParse(parts[1], NumberStyles.None, CultureInfo.InvariantCulture, out var micros)
            || micros > 253402300799999999 /* 9999-12-31 */ || !Workflows.RunIds.IsValid(parts[2]))
        {
            return false;
        }

        cursor = new RunListCursor(DateTimeOffset.UnixEpoch.AddTicks(micros * 10), parts[2]);
        return true;
    }
}
