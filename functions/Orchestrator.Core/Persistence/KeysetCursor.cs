using System.Buffers.Text;
using System.Globalization;
using System.Text;

namespace Orchestrator.Core.Persistence;

/// <summary>
/// The text of a keyset position in a newest-first list (runs, incidents): a time to the microsecond PostgreSQL keeps
/// and the row's id, as opaque base64url. Anything that does not decode to a valid position is refused.
/// </summary>
internal static class KeysetCursor
{
    private const string Version = "v1";

    public static string Encode(DateTimeOffset at, string id)
    {
        var micros = (at.UtcTicks - DateTimeOffset.UnixEpoch.UtcTicks) / 10;
        return Base64Url.EncodeToString(Encoding.UTF8.GetBytes($"{Version}:{micros.ToString(CultureInfo.InvariantCulture)}:{id}"));
    }

    /// <summary>The position in <paramref name="text"/>, when it is one and its id passes <paramref name="isValidId"/>.</summary>
    public static bool TryDecode(string text, Func<string, bool> isValidId, out DateTimeOffset at, out string id)
    {
        at = default;
        id = "";
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
            || micros > 253402300799999999 /* 9999-12-31 */ || !isValidId(parts[2]))
        {
            return false;
        }

        at = DateTimeOffset.UnixEpoch.AddTicks(micros * 10);
        id = parts[2];
        return true;
    }
}
