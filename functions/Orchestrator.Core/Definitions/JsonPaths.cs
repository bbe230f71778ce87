using System.Globalization;
using System.Text;
using System.Text.Json.Nodes;

namespace Orchestrator.Core.Definitions;

/// <summary>Turns JSON pointers (<c>/steps/2/prompt</c>) into the paths users read (<c>steps[2].prompt</c>).</summary>
public static class JsonPaths
{
    /// <summary>
    /// The readable path of <paramref name="pointer"/>. Given the <paramref name="instance"/> the pointer points into,
    /// a numeric segment is an index only where the instance has an array (an object's key "2" stays a key).
    /// </summary>
    public static string FromPointer(string pointer, string? root = null, JsonNode? instance = null)
    {
        var builder = new StringBuilder(root ?? string.Empty);
        var node = instance;
        var known = instance is not null;
        foreach (var segment in Segments(pointer))
        {
            var isIndex = known
                ? node is JsonArray && IsIndex(segment)
                : IsIndex(segment);
            if (isIndex)
            {
                builder.Append('[').Append(segment).Append(']');
            }
            else
            {
                if (builder.Length > 0)
                {
                    builder.Append('.');
                }

                builder.Append(segment);
            }

            node = node switch
            {
                JsonArray array when isIndex && int.Parse(segment, CultureInfo.InvariantCulture) < array.Count => array[int.Parse(segment, CultureInfo.InvariantCulture)],
                JsonObject obj when obj.TryGetPropertyValue(segment, out var child) => child,
                _ => null,
            };
        }

        return builder.ToString();
    }

    /// <summary>The unescaped segments of a JSON pointer.</summary>
    public static IEnumerable<string> Segments(string pointer) =>
        pointer.Split('/', StringSplitOptions.RemoveEmptyEntries)
            .Select(raw => raw.Replace("~1", "/", StringComparison.Ordinal).Replace("~0", "~", StringComparison.Ordinal));

    public static string Child(string parent, string name) => parent.Length == 0 ? name : $"{parent}.{name}";

    public static string Index(string parent, int index) => $"{parent}[{index}]";

    private static bool IsIndex(string segment) =>
        int.TryParse(segment, NumberStyles.None, CultureInfo.InvariantCulture, out _);
}
