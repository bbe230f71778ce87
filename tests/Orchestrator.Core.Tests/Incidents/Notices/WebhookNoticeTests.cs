using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Orchestrator.Core.Incidents;
using Orchestrator.Core.Incidents.Notices;
using Orchestrator.Core.Tests.Fakes;

namespace Orchestrator.Core.Tests.Incidents.Notices;

public sealed class WebhookNoticeTests(PostgresDatabase database) : NoticeChannelContract(database)
{
    private const string Secret = "signing-secret-of-the-test-receiver";

    protected override string Channel => NoticeChannel.Webhook;

    protected override string Path => "/webhook/incidents";

    protected override Dictionary<string, string?> Settings() => new()
    {
        ["Notices:Webhook:Url"] = Receiver.Url(Path),
        ["Notices:Webhook:Secret"] = Secret,
    };

    protected override IEnumerable<string> SecretsOf(Dictionary<string, string?> settings) => [Secret];

    protected override void AssertFormat(ReceivedNotice request, NoticeContent content, long noticeId)
    {
        var timestamp = request.Headers["X-Orchestrator-Timestamp"];
        Assert.Equal(NoticeHost.Start.ToUnixTimeSeconds().ToString(CultureInfo.InvariantCulture), timestamp);
        // What a receiver does: recompute the HMAC over "{timestamp}.{body}" with the shared secret.
        var expected = "sha256=" + Convert.ToHexStringLower(HMACSHA256.HashData(Encoding.UTF8.GetBytes(Secret), Encoding.UTF8.GetBytes(timestamp + "." + request.Body)));
        Assert.Equal(expected, request.Headers["X-Orchestrator-Signature"]);
        Assert.NotEqual(
            "sha256=" + Convert.ToHexStringLower(HMACSHA256.HashData(Encoding.UTF8.GetBytes("another secret"), Encoding.UTF8.GetBytes(timestamp + "." + request.Body))),
            request.Headers["X-Orchestrator-Signature"]);
        Assert.Equal($"{content.IncidentId}/{content.Kind}/{content.Sequence}", request.Headers["Idempotency-Key"]);

        var json = Json(request);
        Assert.Equal(content.IncidentId, json["incidentId"]!.GetValue<Guid>());
        Assert.Equal(content.Headline, json["headline"]!.GetValue<string>());
        var received = JsonSerializer.Deserialize<NoticeContent>(request.Body, NoticeJson.Options)!;
        Assert.Equal(content.Text, received.Text);
        Assert.Equal(content.Facts, received.Facts);
    }
}
