using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Time.Testing;
using Npgsql;
using Orchestrator.Core.Incidents;
using Orchestrator.Core.Incidents.Notices;
using Orchestrator.Core.Tests.Fakes;

namespace Orchestrator.Core.Tests.Incidents.Notices;

/// <summary>The Server's sender loop: a wake-up starts a pass without waiting for the poll interval, and a failed pass does not end the loop.</summary>
public sealed class NoticeSenderTests(PostgresDatabase database) : IClassFixture<PostgresDatabase>
{
    private const string Path = "/webhook/sender";

    [Fact]
    public async Task Wake_sends_a_new_notice_without_waiting_for_the_poll_interval()
    {
        await NoticeRows.ClearAsync(database.DataSource);
        await using var receiver = await NoticeReceiver.StartAsync();
        var time = new PollWatchingTime(TimeSpan.FromMinutes(10));
        await using var host = new NoticeHost(database.DataSource, time, new Dictionary<string, string?>
        {
            ["Notices:Webhook:Url"] = receiver.Url(Path),
            ["Notices:Webhook:Secret"] = "sender-signing-secret",
            ["Notices:PollInterval"] = "00:10:00",
        });
        await host.Sender.StartAsync(default);
        try
        {
            await WaitUntilAsync(() => time.PollWaits >= 1); // the first pass is over; the loop waits for the poll interval
            var incident = await NoticeRows.InsertIncidentAsync(database.DataSource, time.GetUtcNow());
            await NoticeRows.InsertNoticeAsync(database.DataSource, NoticeRows.Content(incident, NoticeKind.Detected, 0, time.GetUtcNow(), "woken"), NoticeChannel.Webhook, time.GetUtcNow());

            host.Sender.Wake(); // the fake clock never reaches the poll interval: only the wake-up can send it

            await WaitUntilAsync(() => receiver.Delivered(Path).Count == 1);
            Assert.Contains("woken", receiver.Delivered(Path)[0].Body, StringComparison.Ordinal);
        }
        finally
        {
            await host.Sender.StopAsync(default);
        }
    }

    [Fact]
    public async Task A_pass_that_fails_because_the_database_is_down_is_logged_and_the_loop_goes_on()
    {
        var logger = new RecordingLogger<NoticeSender>();
        // Nothing listens on port 1: every ledger statement fails at once.
        await using var down = NpgsqlDataSource.Create("Host=127.0.0.1;Port=1;Username=postgres;Password=postgres;Timeout=2");
        await using var host = new NoticeHost(down, new FakeTimeProvider(NoticeHost.Start), new Dictionary<string, string?>
        {
            ["Notices:Slack:WebhookUrl"] = "http://127.0.0.1:9/slack/services/never",
            ["Notices:PollInterval"] = "00:10:00",
        }, configure: services => services.AddSingleton<ILogger<NoticeSender>>(logger));
        await host.Sender.StartAsync(default);
        try
        {
            await WaitUntilAsync(() => logger.Lines.Count >= 1);
            host.Sender.Wake();
            await WaitUntilAsync(() => logger.Lines.Count >= 2);
            host.Sender.Wake();
            await WaitUntilAsync(() => logger.Lines.Count >= 3);

            Assert.All(logger.Lines, line => Assert.StartsWith("Notice pass failed", line, StringComparison.Ordinal));
            Assert.NotNull(host.Sender.ExecuteTask);
            Assert.False(host.Sender.ExecuteTask.IsCompleted);
        }
        finally
        {
            await host.Sender.StopAsync(default);
        }
    }

    /// <summary>A fake clock that counts the sender's waits for its poll interval, so a test knows when a pass has ended.</summary>
    private sealed class PollWatchingTime(TimeSpan pollInterval) : FakeTimeProvider(NoticeHost.Start)
    {
        private int pollWaits;

        public int PollWaits => Volatile.Read(ref pollWaits);

        public override ITimer CreateTimer(TimerCallback callback, object? state, TimeSpan dueTime, TimeSpan period)
        {
            if (dueTime == pollInterval)
            {
                Interlocked.Increment(ref pollWaits);
            }

            return base.CreateTimer(callback, state, dueTime, period);
        }
    }

    private static async Task WaitUntilAsync(Func<bool> condition)
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        while (!condition())
        {
            await Task.Delay(20, timeout.Token);
        }
    }
}
