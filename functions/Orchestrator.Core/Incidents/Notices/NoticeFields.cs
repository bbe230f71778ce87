using System.Globalization;

namespace Orchestrator.Core.Incidents.Notices;

/// <summary>The labelled fields every channel lays out (Slack fields, an Adaptive Card's facts, PagerDuty's custom details), in display order.</summary>
internal static class NoticeFields
{
    public static List<KeyValuePair<string, string>> Of(NoticeContent content)
    {
        var fields = new List<KeyValuePair<string, string>>
        {
            new("Severity", content.Severity),
            new("Impact", content.Impact),
            new("Started", Time(content.StartedAt)),
            new("Status", content.Status),
            new("Next step", content.NextStep),
        };
        if (!string.IsNullOrWhiteSpace(content.Eta))
        {
            fields.Add(new("ETA", content.Eta));
        }

        if (content.Duration > TimeSpan.Zero)
        {
            fields.Add(new("Duration", Duration(content.Duration)));
        }

        if (!string.IsNullOrWhiteSpace(content.RootCause))
        {
            fields.Add(new("Root cause", content.RootCause));
        }

        if (content.FollowUp.Count > 0)
        {
            fields.Add(new("Follow-up", string.Join("\n", content.FollowUp)));
        }

        fields.AddRange(content.Facts);
        return fields;
    }

    public static string Time(DateTimeOffset at) => at.UtcDateTime.ToString("yyyy-MM-dd HH:mm 'UTC'", CultureInfo.InvariantCulture);

    public static string Duration(TimeSpan duration)
    {
        var parts = new List<string>();
        if (duration.Days > 0)
        {
            parts.Add(FormattableString.Invariant($"{duration.Days} d"));
        }

        if (duration.Hours > 0)
        {
            parts.Add(FormattableString.Invariant($"{duration.Hours} h"));
        }

        if (duration.Minutes > 0)
        {
            parts.Add(FormattableString.Invariant($"{duration.Minutes} min"));
        }

        if (parts.Count == 0 || (duration.Seconds > 0 && duration < TimeSpan.FromHours(1)))
        {
            parts.Add(FormattableString.Invariant($"{duration.Seconds} s"));
        }

        return string.Join(" ", parts);
    }

    /// <summary><paramref name="text"/> cut to <paramref name="max"/> characters, with an ellipsis when cut.</summary>
    public static string Truncate(string text, int max) => text.Length <= max ? text : string.Concat(text.AsSpan(0, max - 1), "…");
}
