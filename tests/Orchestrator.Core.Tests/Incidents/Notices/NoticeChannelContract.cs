using System.Text.Json.Nodes;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Time.Testing;
using Orchestrator.Core.Incidents;
using Orchestrator.Core.Tests.Fakes;

namespace Orchestrator.Core.Tests.Incidents.Notices;

/// <summary>
/// What every notice channel must do, proved once for each (one small subclass per channel): its wire format, one
/// delivery per notice, a permanent refusal recorded and not retried, <c>Retry-After</c> honoured, and a receiver
/// that is down for a minute getting every notice afterwards, once, in order.
/// </summary>
public abstract class NoticeChannelContract(PostgresDatabase database) : IClassFixture<PostgresDatabase>, IAsyncLifetime
{
    private NoticeHost host = null!;

    protected FakeTimeProvider Time { get; } = new(NoticeHost.Start);

    protected NoticeReceiver Receiver { get; private set; } = null!;

    protected PostgresDatabase Database => database;

    /// <summary>The channel's <c>incident_notices.channel</c> value.</summary>
    protected abstract string Channel { get; }

    /// <summary>The path the channel's configuration points at on the receiver.</summary>
    protected abstract string Path { get; }

    /// <summary>The channel's <c>Notices:*</c> settings, pointing at <see cref="Receiver"/>.</summary>
    protected abstract Dictionary<string, string?> Settings();

    /// <summary>Asserts that <paramref name="request"/> is notice <paramref name="noticeId"/> in the channel's format.</summary>
    protected abstract void AssertFormat(ReceivedNotice request, NoticeContent content, long noticeId);

    /// <summary>The configured values that must never show in the ledger or in <c>/health</c>.</summary>
    protected abstract IEnumerable<string> SecretsOf(Dictionary<string, string?> settings);

    public async Task InitializeAsync()
    {
        Receiver = await NoticeReceiver.StartAsync();
        host = new NoticeHost(database.DataSource, Time, Settings());
        await NoticeRows.ClearAsync(database.DataSource);
    }

    public async Task DisposeAsync()
    {
        await host.DisposeAsync();
        await Receiver.DisposeAsync();
    }

    [Fact]
    public async Task A_notice_arrives_once_in_the_channels_format()
    {
        var (ids, contents) = await InsertAsync(1, NoticeKind.Detected);

        Assert.Equal(1, await host.Dispatcher.DispatchAsync(default));
        Assert.Equal(0, await host.Dispatcher.DispatchAsync(default));
        Time.Advance(TimeSpan.FromMinutes(10));
        Assert.Equal(0, await host.Dispatcher.DispatchAsync(default));

        var request = Assert.Single(Receiver.Requests);
        Assert.Equal(Path, request.Path);
        Assert.StartsWith("application/json", request.Headers["Content-Type"], StringComparison.Ordinal);
        AssertFormat(request, contents[0], ids[0]);
        var row = await NoticeRows.ReadAsync(database.DataSource, ids[0]);
        Assert.Equal("sent", row.Status);
        Assert.Equal(NoticeHost.Start, row.SentAt);
        Assert.Equal(1, row.Attempts);
        Assert.Equal(1, host.Count(Channel, "sent"));
    }

    [Fact]
    public async Task A_permanent_refusal_is_recorded_with_its_status_and_message_and_the_channel_moves_on()
    {
        var (ids, _) = await InsertAsync(2, NoticeKind.Update);
        Receiver.Answer(ReceiverAnswer.Refuse(410, "channel_is_archived"), Path, times: 1);

        Assert.Equal(1, await host.Dispatcher.DispatchAsync(default));
        for (var i = 0; i < 5; i++)
        {
            Time.Advance(TimeSpan.FromMinutes(10));
            Assert.Equal(0, await host.Dispatcher.DispatchAsync(default));
        }

        Assert.Equal(2, Receiver.Requests.Count);
        var rejected = await NoticeRows.ReadAsync(database.DataSource, ids[0]);
        Assert.Equal("rejected", rejected.Status);
        Assert.Equal(410, rejected.LastStatusCode);
        Assert.Contains("channel_is_archived", rejected.LastError, StringComparison.Ordinal);
        Assert.Null(rejected.SentAt);
        Assert.Equal("sent", (await NoticeRows.ReadAsync(database.DataSource, ids[1])).Status);
        Assert.Equal(1, host.Count(Channel, "rejected"));

        var health = (await host.HealthAsync()).Entries[Orchestrator.Core.Incidents.Notices.IncidentNoticesHealthCheck.Name];
        Assert.Equal(HealthStatus.Degraded, health.Status);
        Assert.Contains(Channel, health.Description, StringComparison.Ordinal);
        Assert.Contains("410", health.Description, StringComparison.Ordinal);
        foreach (var secret in SecretsOf(Settings()))
        {
            Assert.DoesNotContain(secret, health.Description, StringComparison.OrdinalIgnoreCase);
            Assert.DoesNotContain(secret, rejected.LastError, StringComparison.OrdinalIgnoreCase);
        }
    }

    [Fact]
    public async Task Too_many_requests_with_Retry_After_holds_the_next_attempt_until_then()
    {
        var (ids, _) = await InsertAsync(2, NoticeKind.Update);
        Receiver.Answer(ReceiverAnswer.TooManyRequests("120"), Path, times: 1);

        Assert.Equal(0, await host.Dispatcher.DispatchAsync(default));
        var deferred = await NoticeRows.ReadAsync(database.DataSource, ids[0]);
        Assert.Equal("pending", deferred.Status);
        Assert.Equal(429, deferred.LastStatusCode);
        Assert.Equal(NoticeHost.Start.AddSeconds(120), deferred.NextAttemptAt);
        Assert.Null(deferred.ClaimedBy);

        Time.Advance(TimeSpan.FromSeconds(119));
        Assert.Equal(0, await host.Dispatcher.DispatchAsync(default));
        Assert.Single(Receiver.Requests); // neither the deferred notice nor the one behind it went early

        Time.Advance(TimeSpan.FromSeconds(1));
        Assert.Equal(2, await host.Dispatcher.DispatchAsync(default));
        Assert.Equal(3, Receiver.Requests.Count);
        Assert.Equal(2, (await NoticeRows.ReadAsync(database.DataSource, ids[0])).Attempts);
        Assert.Equal(1, host.Count(Channel, "retried"));
    }

    [Fact]
    public async Task A_receiver_down_for_a_minute_gets_every_notice_once_and_in_order_when_it_is_back()
    {
        var (ids, _) = await InsertAsync(4, NoticeKind.Update);
        Receiver.Answer(ReceiverAnswer.Down, Path);
        for (var elapsed = TimeSpan.Zero; elapsed < TimeSpan.FromMinutes(1); elapsed += TimeSpan.FromSeconds(5))
        {
            if (elapsed == TimeSpan.FromSeconds(30))
            {
                Receiver.Recover();
                Receiver.Answer(ReceiverAnswer.Dropped, Path); // now it does not even answer
            }

            Assert.Equal(0, await host.Dispatcher.DispatchAsync(default));
            Time.Advance(TimeSpan.FromSeconds(5));
        }

        var whileDown = Receiver.Requests;
        Assert.True(whileDown.Count >= 3, $"the head was tried again while the receiver was down ({whileDown.Count} attempts)");
        Assert.All(whileDown, r => Assert.Contains(Marker(0), r.Body, StringComparison.Ordinal)); // only the head, never the ones behind it

        Receiver.Recover();
        var sent = 0;
        for (var round = 0; round < 10 && sent < ids.Count; round++)
        {
            sent += await host.Dispatcher.DispatchAsync(default);
            Time.Advance(TimeSpan.FromSeconds(5));
        }

        var delivered = Receiver.Delivered(Path);
        Assert.Equal(ids.Count, delivered.Count);
        Assert.Equal(ids.Count, sent);
        for (var i = 0; i < ids.Count; i++)
        {
            Assert.Contains(Marker(i), delivered[i].Body, StringComparison.Ordinal);
            Assert.Equal("sent", (await NoticeRows.ReadAsync(database.DataSource, ids[i])).Status);
        }
    }

    /// <summary>The body of <paramref name="request"/> as JSON.</summary>
    protected static JsonNode Json(ReceivedNotice request) => JsonNode.Parse(request.Body)!;

    protected static string Marker(int index) => $"marker-{index:00}-end";

    /// <summary>Inserts an incident and <paramref name="count"/> notices of <paramref name="kind"/> on this channel, in order.</summary>
    protected async Task<(List<long> Ids, List<NoticeContent> Contents)> InsertAsync(int count, string kind, string severity = "P1")
    {
        var incident = await NoticeRows.InsertIncidentAsync(database.DataSource, Time.GetUtcNow(), severity);
        var ids = new List<long>();
        var contents = new List<NoticeContent>();
        for (var i = 0; i < count; i++)
        {
            var content = NoticeRows.Content(incident, kind, kind == NoticeKind.Update ? i + 1 : i, Time.GetUtcNow(), Marker(i), severity);
            ids.Add(await NoticeRows.InsertNoticeAsync(database.DataSource, content, Channel, Time.GetUtcNow()));
            contents.Add(content);
        }

        return (ids, contents);
    }

    /// <summary>Sends the one pending notice of <paramref name="content"/> and returns what the receiver got.</summary>
    protected async Task<ReceivedNotice> SendOneAsync(NoticeContent content)
    {
        await NoticeRows.InsertNoticeAsync(database.DataSource, content, Channel, Time.GetUtcNow());
        Assert.Equal(1, await host.Dispatcher.DispatchAsync(default));
        return Receiver.Requests[^1];
    }
}
