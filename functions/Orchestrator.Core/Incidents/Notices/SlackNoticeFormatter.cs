using System.Text.Json.Nodes;

namespace Orchestrator.Core.Incidents.Notices;

/// <summary>
/// Slack incoming webhook: <c>text</c> (the rendered runbook template, what notifications and old clients show) and
/// <c>blocks</c> (a header with the headline, sections of mrkdwn fields, a context line with the incident id).
/// Slack answers <c>200 ok</c>; its refusals (<c>invalid_payload</c>, <c>channel_is_archived</c> …) are 4xx.
/// </summary>
public sealed class SlackNoticeFormatter : NoticeFormatter
{
    // Slack's limits: a header's text 150 characters, a section 10 fields of 2,000 characters each.
    private const int HeaderMax = 150;
    private const int FieldMax = 2000;
    private const int FieldsPerSection = 10;
    private const int TextMax = 3000;

    public override string Channel => NoticeChannel.Slack;

    public override bool IsConfigured(NoticeOptions options) => options.Slack.IsConfigured;

    public override IEnumerable<string?> Secrets(NoticeOptions options) => UrlSecrets(options.Slack.WebhookUrl);

    public override bool IsSuccess(int statusCode, string body) => statusCode == 200 && body.Trim() == "ok";

    public override HttpRequestMessage CreateRequest(long noticeId, NoticeContent content, NoticeOptions options, DateTimeOffset now)
    {
        var blocks = new JsonArray
        {
            new JsonObject
            {
                ["type"] = "header",
                ["text"] = new JsonObject { ["type"] = "plain_text", ["text"] = NoticeFields.Truncate(content.Headline, HeaderMax), ["emoji"] = true },
            },
            new JsonObject
            {
                ["type"] = "section",
                ["text"] = new JsonObject { ["type"] = "mrkdwn", ["text"] = NoticeFields.Truncate($"*{Escape(content.Title)}*", TextMax) },
            },
        };
        foreach (var chunk in NoticeFields.Of(content).Chunk(FieldsPerSection))
        {
            var fields = new JsonArray();
            foreach (var (name, value) in chunk)
            {
                fields.Add(new JsonObject { ["type"] = "mrkdwn", ["text"] = NoticeFields.Truncate($"*{Escape(name)}*\n{Escape(value)}", FieldMax) });
            }

            blocks.Add(new JsonObject { ["type"] = "section", ["fields"] = fields });
        }

        blocks.Add(new JsonObject
        {
            ["type"] = "context",
            ["elements"] = new JsonArray
            {
                new JsonObject { ["type"] = "mrkdwn", ["text"] = $"Incident `{content.IncidentId}` · {Escape(content.CheckName)} · {content.Kind}" },
            },
        });
        return PostJson(options.Slack.WebhookUrl!, new JsonObject { ["text"] = content.Text, ["blocks"] = blocks });
    }

    /// <summary>Slack's mrkdwn control characters: &amp;, &lt; and &gt; must be escaped, or a value could become a link or a mention.</summary>
    private static string Escape(string text) => text.Replace("&", "&amp;", StringComparison.Ordinal).Replace("<", "&lt;", StringComparison.Ordinal).Replace(">", "&gt;", StringComparison.Ordinal);
}
