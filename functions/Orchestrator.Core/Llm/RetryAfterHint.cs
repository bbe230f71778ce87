using System.Globalization;
using System.Text.RegularExpressions;
using Microsoft.DurableTask;

namespace Orchestrator.Core.Llm;

/// <summary>
/// How an activity tells the orchestration's retry handler the earliest moment the next attempt is worth making
/// (a provider's <c>Retry-After</c>, the end of a breaker's break, a rate limit's window): a marker at the end of the
/// failure message, because a failed activity reaches the orchestration as its message and type only.
/// </summary>
public static partial class RetryAfterHint
{
    public static string Append(string message, TimeSpan? retryAfter) =>
        retryAfter is { } after && after > TimeSpan.Zero
            ? string.Create(CultureInfo.InvariantCulture, $"{message} [retry after {after.TotalSeconds:0.000} s]")
            : message;

    /// <summary>The longest hint in the failure or its inner failures; null when there is none.</summary>
    public static TimeSpan? Read(TaskFailureDetails? failure)
    {
        TimeSpan? longest = null;
        for (var current = failure; current is not null; current = current.InnerFailure)
        {
            if (Read(current.ErrorMessage) is { } after && (longest is null || after > longest))
            {
                longest = after;
            }
        }

        return longest;
    }

    public static TimeSpan? Read(string? message)
    {
        var match = message is null ? Match.Empty : Marker().Match(message);
        return match.Success && double.TryParse(match.Groups[1].Value, NumberStyles.Float, CultureInfo.InvariantCulture, out var seconds)
            ? TimeSpan.FromSeconds(Math.Min(seconds, TimeSpan.FromDays(1).TotalSeconds))
            : null;
    }

    /// <summary>The message without its hint, for people (a step record's skip reason).</summary>
    public static string Strip(string message) => Marker().Replace(message, string.Empty).TrimEnd();

    [GeneratedRegex(@"\[retry after (\d+(?:\.\d+)?) s\]")]
    private static partial Regex Marker();
}
