using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Time.Testing;
using Orchestrator.Core.Incidents;
using Orchestrator.Core.Incidents.Notices;
using Orchestrator.Core.Tests.Fakes;

namespace Orchestrator.Core.Tests.Incidents.Notices;

public sealed class IncidentNoticesHealthCheckTests(PostgresDatabase database) : IClassFixture<PostgresDatabase>, IAsyncLifetime
{
    private const string SlackUrl = "https://hooks.slack.example/services/T9/B9/health-path-secret";

    private readonly FakeTimeProvider time = new(NoticeHost.Start);
    private NoticeHost host = null!;

    public async Task InitializeAsync()
    {
        host = new NoticeHost(database.DataSource, time, new Dictionary<string, string?> { ["Notices:Slack:WebhookUrl"] = SlackUrl });
        await NoticeRows.ClearAsync(database.DataSource);
    }

    public async Task DisposeAsync() => await host.DisposeAsync();

    [Fact]
    public async Task Delivered_notices_are_healthy()
    {
        var id = await InsertAsync(NoticeChannel.Slack);
        await NoticeRows.SetAsync(database.DataSource, id, "sent", 200, time.GetUtcNow());
        time.Advance(TimeSpan.FromHours(1));

        Assert.Equal(HealthStatus.Healthy, (await CheckAsync()).Status);
    }

    [Fact]
    public async Task A_rejection_within_the_last_day_degrades_naming_the_channel_and_status_but_not_the_url()
    {
        var id = await InsertAsync(NoticeChannel.Slack);
        await NoticeRows.SetAsync(database.DataSource, id, "rejected", 404, time.GetUtcNow());
        time.Advance(TimeSpan.FromHours(23));

        var entry = await CheckAsync();

        Assert.Equal(HealthStatus.Degraded, entry.Status);
        Assert.Contains("slack", entry.Description, StringComparison.Ordinal);
        Assert.Contains("404", entry.Description, StringComparison.Ordinal);
        Assert.DoesNotContain("health-path-secret", entry.Description, StringComparison.Ordinal);
        Assert.DoesNotContain("hooks.slack", entry.Description, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_rejection_older_than_a_day_is_healthy_again()
    {
        var id = await InsertAsync(NoticeChannel.Teams);
        await NoticeRows.SetAsync(database.DataSource, id, "rejected", 410, time.GetUtcNow());
        time.Advance(TimeSpan.FromHours(25));

        Assert.Equal(HealthStatus.Healthy, (await CheckAsync()).Status);
    }

    [Fact]
    public async Task A_notice_waiting_more_than_five_minutes_degrades()
    {
        await InsertAsync(NoticeChannel.PagerDuty);
        time.Advance(TimeSpan.FromMinutes(4));
        var fourMinutes = await CheckAsync();
        time.Advance(TimeSpan.FromMinutes(2));
        var sixMinutes = await CheckAsync();

        Assert.Equal(HealthStatus.Healthy, fourMinutes.Status);
        Assert.Equal(HealthStatus.Degraded, sixMinutes.Status);
        Assert.Contains("pagerduty", sixMinutes.Description, StringComparison.Ordinal);
    }

    private async Task<HealthReportEntry> CheckAsync() => (await host.HealthAsync()).Entries[IncidentNoticesHealthCheck.Name];

    private async Task<long> InsertAsync(string channel)
    {
        var incident = await NoticeRows.InsertIncidentAsync(database.DataSource, time.GetUtcNow());
        return await NoticeRows.InsertNoticeAsync(database.DataSource, NoticeRows.Content(incident, NoticeKind.Detected, 0, time.GetUtcNow(), "health"), channel, time.GetUtcNow());
    }
}
