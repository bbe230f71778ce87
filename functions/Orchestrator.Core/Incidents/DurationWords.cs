using System.Globalization;

namespace Orchestrator.Core.Incidents;

/// <summary>A duration the way the runbook's notices say it: <c>45 s</c>, <c>23 min</c>, <c>2 h 5 min</c>, <c>3 d 4 h</c>.</summary>
public static class DurationWords
{
    public static string Of(TimeSpan duration)
    {
        if (duration < TimeSpan.Zero)
        {
            duration = TimeSpan.Zero;
        }

        var c = CultureInfo.InvariantCulture;
        return duration switch
        {
            { TotalSeconds: < 60 } => string.Create(c, $"{(int)duration.TotalSeconds} s"),
            { TotalMinutes: < 60 } => string.Create(c, $"{(int)duration.TotalMinutes} min"),
            { TotalHours: < 24 } => duration.Minutes == 0 ? string.Create(c, $"{(int)duration.TotalHours} h") : string.Create(c, $"{(int)duration.TotalHours} h {duration.Minutes} min"),
            _ => duration.Hours == 0 ? string.Create(c, $"{duration.Days} d") : string.Create(c, $"{duration.Days} d {duration.Hours} h"),
        };
    }
}
