using System.Net.Http.Headers;

namespace Orchestrator.Core.Incidents.Notices;

/// <summary>
/// The classification every channel shares: its own success rule → sent; 408, 429 and 5xx → retried (no sooner than
/// <c>Retry-After</c>); any other answer → rejected for good, with the status code and the receiver's message.
/// </summary>
public static class NoticeResponses
{
    private const int MessageMax = 500;

    public static NoticeAttempt Classify(NoticeFormatter formatter, int statusCode, string body, RetryConditionHeaderValue? retryAfter, DateTimeOffset now)
    {
        if (formatter.IsSuccess(statusCode, body))
        {
            return new NoticeAttempt(NoticeOutcome.Sent, statusCode, null);
        }

        var message = Message(statusCode, body);
        return statusCode switch
        {
            >= 200 and < 300 => new NoticeAttempt(NoticeOutcome.Retried, statusCode, "unexpected answer: " + message),
            408 or 429 or >= 500 => new NoticeAttempt(NoticeOutcome.Retried, statusCode, message, RetryAfter(retryAfter, now)),
            _ => new NoticeAttempt(NoticeOutcome.Rejected, statusCode, message),
        };
    }

    /// <summary>How long <c>Retry-After</c> (seconds or an HTTP date) asks to wait from <paramref name="now"/>; null without one.</summary>
    public static TimeSpan? RetryAfter(RetryConditionHeaderValue? header, DateTimeOffset now) => header switch
    {
        { Delta: { } delta } => delta < TimeSpan.Zero ? TimeSpan.Zero : delta,
        { Date: { } date } => date > now ? date - now : TimeSpan.Zero,
        _ => null,
    };

    /// <summary><paramref name="text"/> with every configured secret (URL, its path, key, signing secret) replaced.</summary>
    public static string Redact(string text, IEnumerable<string?> secrets)
    {
        foreach (var secret in secrets.Where(s => !string.IsNullOrEmpty(s)).OrderByDescending(s => s!.Length))
        {
            text = text.Replace(secret!, "[redacted]", StringComparison.OrdinalIgnoreCase);
        }

        return text;
    }

    private static string Message(int statusCode, string body)
    {
        var trimmed = body.Trim();
        return NoticeFields.Truncate(trimmed.Length > 0 ? trimmed : FormattableString.Invariant($"HTTP {statusCode}"), MessageMax);
    }
}
