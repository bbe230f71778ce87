using System.Text.Json.Nodes;

namespace Orchestrator.Core.Incidents.Notices;

/// <summary>
/// Microsoft Teams Workflows webhook: a message with one Adaptive Card 1.4 attachment (headline, title, the fields as
/// a FactSet, the rendered runbook text). Not the retired Office 365 connector MessageCard. Teams answers 200 or 202.
/// </summary>
public sealed class TeamsNoticeFormatter : NoticeFormatter
{
    public const string AdaptiveCardContentType = "application/vnd.microsoft.card.adaptive";

    public override string Channel => NoticeChannel.Teams;

    public override bool IsConfigured(NoticeOptions options) => options.Teams.IsConfigured;

    public override IEnumerable<string?> Secrets(NoticeOptions options) => UrlSecrets(options.Teams.WebhookUrl);

    public override HttpRequestMessage CreateRequest(long noticeId, NoticeContent content, NoticeOptions options, DateTimeOffset now)
    {
        var facts = new JsonArray();
        foreach (var (name, value) in NoticeFields.Of(content))
        {
            facts.Add(new JsonObject { ["title"] = name, ["value"] = value });
        }

        var card = new JsonObject
        {
            ["$schema"] = "http://adaptivecards.io/schemas/adaptive-card.json",
            ["type"] = "AdaptiveCard",
            ["version"] = "1.4",
            ["body"] = new JsonArray
            {
                new JsonObject
                {
                    ["type"] = "TextBlock", ["text"] = content.Headline, ["weight"] = "Bolder", ["size"] = "Medium", ["wrap"] = true,
                    ["color"] = content.Kind == NoticeKind.Resolved ? "Good" : "Attention",
                },
                new JsonObject { ["type"] = "TextBlock", ["text"] = content.Title, ["weight"] = "Bolder", ["wrap"] = true },
                new JsonObject { ["type"] = "FactSet", ["facts"] = facts },
                new JsonObject { ["type"] = "TextBlock", ["text"] = content.Text, ["wrap"] = true, ["isSubtle"] = true, ["fontType"] = "Monospace" },
                new JsonObject { ["type"] = "TextBlock", ["text"] = $"Incident {content.IncidentId} · {content.CheckName} · {content.Kind}", ["size"] = "Small", ["isSubtle"] = true, ["wrap"] = true },
            },
        };
        var message = new JsonObject
        {
            ["type"] = "message",
            ["attachments"] = new JsonArray
            {
                new JsonObject { ["contentType"] = AdaptiveCardContentType, ["contentUrl"] = null, ["content"] = card },
            },
        };
        return PostJson(options.Teams.WebhookUrl!, message);
    }
}
