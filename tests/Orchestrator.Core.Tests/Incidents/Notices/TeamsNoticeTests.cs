using Orchestrator.Core.Incidents;
using Orchestrator.Core.Tests.Fakes;

namespace Orchestrator.Core.Tests.Incidents.Notices;

public sealed class TeamsNoticeTests(PostgresDatabase database) : NoticeChannelContract(database)
{
    protected override string Channel => NoticeChannel.Teams;

    protected override string Path => "/teams/workflows/triggers/manual/paths/invoke";

    protected override Dictionary<string, string?> Settings() => new() { ["Notices:Teams:WebhookUrl"] = Receiver.Url(Path) + "?api-version=2016-06-01&sig=signature-in-the-query" };

    protected override IEnumerable<string> SecretsOf(Dictionary<string, string?> settings) => [settings["Notices:Teams:WebhookUrl"]!, "signature-in-the-query"];

    protected override void AssertFormat(ReceivedNotice request, NoticeContent content, long noticeId)
    {
        var json = Json(request);
        Assert.Equal("message", json["type"]!.GetValue<string>());
        Assert.Null(json["@type"]); // not the retired MessageCard
        var attachment = Assert.Single(json["attachments"]!.AsArray())!;
        Assert.Equal("application/vnd.microsoft.card.adaptive", attachment["contentType"]!.GetValue<string>());
        Assert.True(attachment.AsObject().ContainsKey("contentUrl"));
        Assert.Null(attachment["contentUrl"]);
        var card = attachment["content"]!;
        Assert.Equal("AdaptiveCard", card["type"]!.GetValue<string>());
        Assert.Equal("1.4", card["version"]!.GetValue<string>());
        Assert.Equal("http://adaptivecards.io/schemas/adaptive-card.json", card["$schema"]!.GetValue<string>());
        var body = card["body"]!.AsArray();
        Assert.Equal("TextBlock", body[0]!["type"]!.GetValue<string>());
        Assert.Equal(content.Headline, body[0]!["text"]!.GetValue<string>());
        var facts = body.Single(b => b!["type"]!.GetValue<string>() == "FactSet")!["facts"]!.AsArray()
            .Select(f => (f!["title"]!.GetValue<string>(), f["value"]!.GetValue<string>())).ToList();
        Assert.Contains(("Severity", "P1"), facts);
        Assert.Contains(("Lag", "42 s"), facts);
        Assert.Contains(body, b => b!["type"]!.GetValue<string>() == "TextBlock" && b["text"]!.GetValue<string>() == content.Text);
    }
}
