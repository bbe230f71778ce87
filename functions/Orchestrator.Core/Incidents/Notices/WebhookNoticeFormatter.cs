using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;

namespace Orchestrator.Core.Incidents.Notices;

/// <summary>
/// A generic JSON webhook: the <see cref="NoticeContent"/> as camelCase JSON, signed like Stripe's and Slack's own
/// requests (<c>X-Orchestrator-Signature: sha256=HMAC(secret, "{timestamp}.{body}")</c>, the timestamp in
/// <c>X-Orchestrator-Timestamp</c> so a receiver can refuse replays), and <c>Idempotency-Key</c> = the notice's natural key
/// (<see cref="IdempotencyKey"/>: incident, kind, sequence) so a receiver can drop the duplicate a sender that crashed
/// between sending and recording can cause — also for a notice sent directly while the database was away.
/// </summary>
public sealed class WebhookNoticeFormatter : NoticeFormatter
{
    public const string TimestampHeader = "X-Orchestrator-Timestamp";
    public const string SignatureHeader = "X-Orchestrator-Signature";
    public const string IdempotencyKeyHeader = "Idempotency-Key";

    public override string Channel => NoticeChannel.Webhook;

    public override bool IsConfigured(NoticeOptions options) => options.Webhook.IsConfigured;

    public override IEnumerable<string?> Secrets(NoticeOptions options) => [.. UrlSecrets(options.Webhook.Url), options.Webhook.Secret];

    /// <summary>The signature header's value for <paramref name="body"/> sent at <paramref name="timestamp"/> (unix seconds).</summary>
    public static string Sign(string secret, string timestamp, string body) =>
        "sha256=" + Convert.ToHexStringLower(HMACSHA256.HashData(Encoding.UTF8.GetBytes(secret), Encoding.UTF8.GetBytes($"{timestamp}.{body}")));

    /// <summary><c>{incident id}/{kind}/{sequence}</c>: the same for every attempt of one notice, whichever sender makes it.</summary>
    public static string IdempotencyKey(NoticeContent content) =>
        string.Create(CultureInfo.InvariantCulture, $"{content.IncidentId}/{content.Kind}/{content.Sequence}");

    public override HttpRequestMessage CreateRequest(long noticeId, NoticeContent content, NoticeOptions options, DateTimeOffset now)
    {
        var body = JsonSerializer.Serialize(content, NoticeJson.Options);
        var timestamp = now.ToUnixTimeSeconds().ToString(CultureInfo.InvariantCulture);
        var request = PostJson(options.Webhook.Url!, body);
        request.Headers.TryAddWithoutValidation(TimestampHeader, timestamp);
        request.Headers.TryAddWithoutValidation(SignatureHeader, Sign(options.Webhook.Secret ?? "", timestamp, body));
        request.Headers.TryAddWithoutValidation(IdempotencyKeyHeader, IdempotencyKey(content));
        return request;
    }
}
