using Microsoft.Extensions.Time.Testing;
using Orchestrator.Core.Incidents;
using Orchestrator.Core.Incidents.Notices;
using Orchestrator.Core.Tests.Fakes;

namespace Orchestrator.Core.Tests.Incidents.Notices;

/// <summary>Two instances' senders on one ledger: every notice once, in id order per channel; a lapsed claim taken over cannot be marked by its first holder.</summary>
public sealed class NoticeDispatcherConcurrencyTests(PostgresDatabase database) : IClassFixture<PostgresDatabase>, IAsyncLifetime
{
    private const string SlackPath = "/slack/services/T1/B1/concurrency";
    private const string WebhookPath = "/webhook/concurrency";

    private readonly FakeTimeProvider time = new(NoticeHost.Start);
    private NoticeReceiver receiver = null!;

    public async Task InitializeAsync()
    {
        receiver = await NoticeReceiver.StartAsync();
        await NoticeRows.ClearAsync(database.DataSource);
    }

    public async Task DisposeAsync() => await receiver.DisposeAsync();

    [Fact]
    public async Task Two_instances_deliver_thirty_notices_on_two_channels_each_exactly_once_in_id_order_per_channel()
    {
        var settings = new Dictionary<string, string?>
        {
            ["Notices:Slack:WebhookUrl"] = receiver.Url(SlackPath),
            ["Notices:Webhook:Url"] = receiver.Url(WebhookPath),
            ["Notices:Webhook:Secret"] = "concurrency-signing-secret",
        };
        await using var a = new NoticeHost(database.DataSource, time, settings, "instance-a");
        await using var b = new NoticeHost(database.DataSource, time, settings, "instance-b");
        var incident = await NoticeRows.InsertIncidentAsync(database.DataSource, time.GetUtcNow());
        for (var i = 1; i <= 15; i++)
        {
            foreach (var channel in new[] { NoticeChannel.Slack, NoticeChannel.Webhook })
            {
                await NoticeRows.InsertNoticeAsync(database.DataSource, NoticeRows.Content(incident, NoticeKind.Update, i, time.GetUtcNow(), Marker(i)), channel, time.GetUtcNow());
            }
        }

        // A few refusals to retry on the way, so the senders also meet deferred heads.
        receiver.Answer(ReceiverAnswer.Down, SlackPath, times: 3);
        receiver.Answer(ReceiverAnswer.Dropped, WebhookPath, times: 2);
        var sent = 0;
        for (var round = 0; round < 60 && sent < 30; round++)
        {
            var passes = await Task.WhenAll(a.Dispatcher.DispatchAsync(default), b.Dispatcher.DispatchAsync(default), a.Dispatcher.DispatchAsync(default), b.Dispatcher.DispatchAsync(default));
            sent += passes.Sum();
            time.Advance(TimeSpan.FromSeconds(2));
        }

        Assert.Equal(30, sent);
        foreach (var path in new[] { SlackPath, WebhookPath })
        {
            var delivered = receiver.Delivered(path);
            Assert.Equal(15, delivered.Count);
            for (var i = 1; i <= 15; i++)
            {
                Assert.Contains(Marker(i), delivered[i - 1].Body, StringComparison.Ordinal);
            }
        }

        Assert.Equal(30, a.Count(NoticeChannel.Slack, "sent") + b.Count(NoticeChannel.Slack, "sent") + a.Count(NoticeChannel.Webhook, "sent") + b.Count(NoticeChannel.Webhook, "sent"));
    }

    [Fact]
    public async Task Only_the_head_can_be_claimed_and_a_lapsed_claim_taken_over_cannot_be_marked_by_its_first_holder()
    {
        var ledger = new NoticeLedger(database.DataSource, TimeSpan.FromSeconds(5), time);
        var incident = await NoticeRows.InsertIncidentAsync(database.DataSource, time.GetUtcNow());
        var head = await NoticeRows.InsertNoticeAsync(database.DataSource, NoticeRows.Content(incident, NoticeKind.Detected, 0, time.GetUtcNow(), Marker(0)), NoticeChannel.Slack, time.GetUtcNow());
        var behind = await NoticeRows.InsertNoticeAsync(database.DataSource, NoticeRows.Content(incident, NoticeKind.Update, 1, time.GetUtcNow(), Marker(1)), NoticeChannel.Slack, time.GetUtcNow());
        var lease = TimeSpan.FromSeconds(30);

        var first = await ledger.ClaimHeadAsync(NoticeChannel.Slack, "instance-a/1", time.GetUtcNow(), lease, default);
        time.Advance(TimeSpan.FromSeconds(29));
        var whileHeld = await ledger.ClaimHeadAsync(NoticeChannel.Slack, "instance-b/1", time.GetUtcNow(), lease, default);
        time.Advance(TimeSpan.FromSeconds(1));
        var takenOver = await ledger.ClaimHeadAsync(NoticeChannel.Slack, "instance-b/1", time.GetUtcNow(), lease, default);
        var sent = new NoticeAttempt(NoticeOutcome.Sent, 200, null);
        var markedByFirst = await ledger.FinishAsync(first!, "instance-a/1", sent, time.GetUtcNow(), null, default);
        var markedByTaker = await ledger.FinishAsync(takenOver!, "instance-b/1", sent, time.GetUtcNow(), null, default);

        Assert.Equal(head, first!.Id);
        Assert.Null(whileHeld); // not the notice behind it either
        Assert.Equal(head, takenOver!.Id);
        Assert.Equal(2, takenOver.Attempt);
        Assert.False(markedByFirst);
        Assert.True(markedByTaker);
        var row = await NoticeRows.ReadAsync(database.DataSource, head);
        Assert.Equal(("sent", "instance-b/1"), (row.Status, row.ClaimedBy));
        Assert.Equal(behind, (await ledger.ClaimHeadAsync(NoticeChannel.Slack, "instance-a/1", time.GetUtcNow(), lease, default))!.Id);
    }

    private static string Marker(int index) => $"marker-{index:00}-end";
}
