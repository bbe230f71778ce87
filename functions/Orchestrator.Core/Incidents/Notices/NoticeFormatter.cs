using System.Text;
using System.Text.Json.Nodes;

namespace Orchestrator.Core.Incidents.Notices;

/// <summary>
/// One channel's wire format: turns a ledger notice into the HTTP request its receiver expects, and says which answers
/// mean "delivered". The classification of everything else (retry or reject) is the same for every channel.
/// </summary>
public abstract class NoticeFormatter
{
    /// <summary>The <see cref="NoticeChannel"/> value: the ledger's <c>channel</c> column and the metric label.</summary>
    public abstract string Channel { get; }

    public abstract bool IsConfigured(NoticeOptions options);

    /// <summary>The configured values that must never appear in a message or a log line (URLs, keys, secrets).</summary>
    public abstract IEnumerable<string?> Secrets(NoticeOptions options);

    /// <summary>The request for notice <paramref name="noticeId"/>, built at <paramref name="now"/>.</summary>
    public abstract HttpRequestMessage CreateRequest(long noticeId, NoticeContent content, NoticeOptions options, DateTimeOffset now);

    /// <summary>Whether the receiver took the notice; any 2xx unless the channel says more.</summary>
    public virtual bool IsSuccess(int statusCode, string body) => statusCode is >= 200 and < 300;

    protected static HttpRequestMessage PostJson(string url, string json) =>
        new(HttpMethod.Post, url) { Content = new StringContent(json, Encoding.UTF8, "application/json") };

    protected static HttpRequestMessage PostJson(string url, JsonNode json) => PostJson(url, json.ToJsonString());

    /// <summary>A URL and its path and query on their own: a webhook's secret is usually its path (or a <c>sig</c> in its query).</summary>
    protected static IEnumerable<string?> UrlSecrets(string? url)
    {
        yield return url;
        if (Uri.TryCreate(url, UriKind.Absolute, out var uri) && uri.PathAndQuery.Length > 1)
        {
            yield return uri.PathAndQuery;
        }
    }
}
