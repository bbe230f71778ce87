using Orchestrator.Core.Incidents;
using Orchestrator.Core.Tests.Fakes;

namespace Orchestrator.Core.Tests.Incidents.Notices;

public sealed class PagerDutyNoticeTests(PostgresDatabase database) : NoticeChannelContract(database)
{
    private const string RoutingKey = "routing-key-of-the-test-service";

    protected override string Channel => NoticeChannel.PagerDuty;

    protected override string Path => "/pagerduty/v2/enqueue";

    protected override Dictionary<string, string?> Settings() => new()
    {
        ["Notices:PagerDuty:RoutingKey"] = RoutingKey,
        ["Notices:PagerDuty:EventsUrl"] = Receiver.Url(Path),
    };

    protected override IEnumerable<string> SecretsOf(Dictionary<string, string?> settings) => [RoutingKey];

    protected override void AssertFormat(ReceivedNotice request, NoticeContent content, long noticeId)
    {
        var json = Json(request);
        Assert.Equal(RoutingKey, json["routing_key"]!.GetValue<string>());
        Assert.Equal("trigger", json["event_action"]!.GetValue<string>());
        Assert.Equal(content.IncidentId.ToString(), json["dedup_key"]!.GetValue<string>());
        var payload = json["payload"]!;
        Assert.Equal($"[P1] {content.Title}", payload["summary"]!.GetValue<string>());
        Assert.Equal("error", payload["severity"]!.GetValue<string>());
        Assert.Equal(content.DedupKey, payload["source"]!.GetValue<string>());
        Assert.Equal(content.CheckName, payload["component"]!.GetValue<string>());
        Assert.Equal(content.At, DateTimeOffset.Parse(payload["timestamp"]!.GetValue<string>(), System.Globalization.CultureInfo.InvariantCulture));
        Assert.Equal("42 s", payload["custom_details"]!["Lag"]!.GetValue<string>());
    }

    [Theory]
    [InlineData("P0", "critical")]
    [InlineData("P1", "error")]
    [InlineData("P2", "warning")]
    [InlineData("P3", "info")]
    public async Task The_runbooks_severity_maps_to_PagerDutys(string severity, string expected)
    {
        var incident = await NoticeRows.InsertIncidentAsync(Database.DataSource, Time.GetUtcNow(), severity);

        var request = await SendOneAsync(NoticeRows.Content(incident, NoticeKind.Detected, 0, Time.GetUtcNow(), Marker(0), severity));

        Assert.Equal(expected, Json(request)["payload"]!["severity"]!.GetValue<string>());
    }

    [Fact]
    public async Task A_resolved_notice_resolves_the_alert_its_detection_triggered()
    {
        var incident = await NoticeRows.InsertIncidentAsync(Database.DataSource, Time.GetUtcNow());
        var trigger = Json(await SendOneAsync(NoticeRows.Content(incident, NoticeKind.Detected, 0, Time.GetUtcNow(), Marker(0))));

        var resolve = Json(await SendOneAsync(NoticeRows.Content(incident, NoticeKind.Resolved, 0, Time.GetUtcNow(), Marker(1))));

        Assert.Equal("trigger", trigger["event_action"]!.GetValue<string>());
        Assert.Equal("resolve", resolve["event_action"]!.GetValue<string>());
        Assert.Equal(incident.ToString(), resolve["dedup_key"]!.GetValue<string>());
        Assert.Equal(trigger["dedup_key"]!.GetValue<string>(), resolve["dedup_key"]!.GetValue<string>());
        Assert.Equal(RoutingKey, resolve["routing_key"]!.GetValue<string>());
    }
}
