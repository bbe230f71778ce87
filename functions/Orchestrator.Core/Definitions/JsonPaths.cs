using System.Text;

namespace Orchestrator.Core.Definitions;

/// <summary>Turns JSON pointers (<c>/steps/2/prompt</c>) into the paths users read (<c>steps[2].prompt</c>).</summary>
public static class JsonPaths
{
    public static string FromPointer(string pointer, string? root = null)
    {
        var builder = new StringBuilder(root ?? string.Empty);
        foreach (var raw in pointer.Split('/', StringSplitOptions.RemoveEmptyEntries))
        {
            var segment = raw.Replace("~1", "/", StringComparison.Ordinal).Replace("~0", "~", StringComparison.Ordinal);
            if (int.TryParse(segment, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out _))
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
        }

        return builder.ToString();
    }

    public static string Child(string parent, string name) => parent.Length == 0 ? name : $"{parent}.{name}";

    public static string Index(string parent, int index) => $"{parent}[{index}]";
}
