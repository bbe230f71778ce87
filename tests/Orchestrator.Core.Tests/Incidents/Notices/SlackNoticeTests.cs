using Orchestrator.Core.Incidents;
using Orchestrator.Core.Tests.Fakes;

namespace Orchestrator.Core.Tests.Incidents.Notices;

public sealed class SlackNoticeTests(PostgresDatabase database) : NoticeChannelContract(database)
{
    protected override string Channel => NoticeChannel.Slack;

    protected override string Path => "/slack/services/T0000/B0000/hook-path-secret";

    protected override Dictionary<string, string?> Settings() => new() { ["Notices:Slack:WebhookUrl"] = Receiver.Url(Path) };

    protected override IEnumerable<string> SecretsOf(Dictionary<string, string?> settings) => [settings["Notices:Slack:WebhookUrl"]!, "hook-path-secret"];

    protected override void AssertFormat(ReceivedNotice request, NoticeContent content, long noticeId)
    {
        var json = Json(request);
        Assert.Equal(content.Text, json["text"]!.GetValue<string>());
        var blocks = json["blocks"]!.AsArray();
        Assert.Equal("header", blocks[0]!["type"]!.GetValue<string>());
        Assert.Equal("plain_text", blocks[0]!["text"]!["type"]!.GetValue<string>());
        Assert.Equal(content.Headline, blocks[0]!["text"]!["text"]!.GetValue<string>());
        var fields = blocks.Where(b => b!["type"]!.GetValue<string>() == "section" && b["fields"] is not null)
            .SelectMany(b => b!["fields"]!.AsArray()).Select(f => (Type: f!["type"]!.GetValue<string>(), Text: f["text"]!.GetValue<string>())).ToList();
        Assert.All(fields, f => Assert.Equal("mrkdwn", f.Type));
        Assert.Contains(("mrkdwn", "*Severity*\nP1"), fields);
        Assert.Contains(("mrkdwn", "*Lag*\n42 s"), fields);
        var context = blocks[^1]!;
        Assert.Equal("context", context["type"]!.GetValue<string>());
        Assert.Contains(content.IncidentId.ToString(), context["elements"]![0]!["text"]!.GetValue<string>(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_200_without_ok_is_not_taken_for_a_delivery()
    {
        var (ids, _) = await InsertAsync(1, NoticeKind.Detected);
        Receiver.Answer(new ReceiverAnswer(200, "no_text"), Path, times: 1);

        await new NoticeHost(Database.DataSource, Time, Settings()).Dispatcher.DispatchAsync(default);

        var row = await NoticeRows.ReadAsync(Database.DataSource, ids[0]);
        Assert.Equal("pending", row.Status);
        Assert.Contains("no_text", row.LastError, StringComparison.Ordinal);
    }
}
