using System.Text.Json;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Time.Testing;
using Npgsql;
using Orchestrator.Core.Incidents;
using Orchestrator.Core.Monitoring;
using Orchestrator.Core.Tests.Fakes;

namespace Orchestrator.Core.Tests.Incidents;

/// <summary>
/// The incident lifecycle on a real database with a fake clock: damping, one incident per condition, the runbook's
/// templates in the ledger, the P0/P1 update cadence, escalation at 80 % of the RTO, resolution and the hand actions.
/// </summary>
public sealed class IncidentEngineTests : IAsyncLifetime
{
    private static readonly TimeSpan Interval = TimeSpan.FromSeconds(15);

    private readonly PostgresDatabase database = new();
    private readonly FakeTimeProvider clock = new(new DateTimeOffset(2026, 12, 4, 14, 32, 0, TimeSpan.Zero));
    private readonly FakeCheck check = new();
    private IncidentEngine engine = null!;

    public async Task InitializeAsync()
    {
        await database.InitializeAsync();
        engine = CreateEngine(database.DataSource);
    }

    public Task DisposeAsync() => database.DisposeAsync();

    [Fact]
    public async Task A_condition_opens_one_incident_only_after_it_has_held_for_its_for_duration()
    {
        check.Options.For = TimeSpan.FromSeconds(30);

        await CheckAsync(firing: true);
        await CheckAsync(firing: true);
        Assert.Equal(0, await database.CountAsync("incidents"));

        await CheckAsync(firing: true);
        await CheckAsync(firing: true);

        var incident = Assert.Single(await IncidentsAsync());
        Assert.Equal(("open", "P1"), (incident.Status, incident.Severity));
        Assert.Equal(clock.GetUtcNow() - (3 * Interval), incident.StartedAt);
        var notices = await NoticesAsync();
        Assert.Equal(["slack:detected:0", "pagerduty:detected:0", "webhook:detected:0"], notices.Select(n => $"{n.Channel}:{n.Kind}:{n.Sequence}"));
    }

    [Fact]
    public async Task The_detected_notice_is_the_runbooks_template_with_what_the_check_measured()
    {
        check.Options.For = TimeSpan.Zero;
        await CheckAsync(firing: true);

        var content = (await NoticesAsync()).First().Content;
        var text = content.GetProperty("text").GetString()!;
        Assert.StartsWith("🚨 INCIDENT DETECTED 🚨", text, StringComparison.Ordinal);
        Assert.Contains("Severity: P1", text, StringComparison.Ordinal);
        Assert.Contains("Impact: Workflows failing", text, StringComparison.Ordinal);
        Assert.Contains("Started: 14:32 UTC", text, StringComparison.Ordinal);
        Assert.Contains("Owner: @oncall-engineer", text, StringComparison.Ordinal);
        Assert.Contains("Next step: curl http://localhost:8080/metrics | grep error_total", text, StringComparison.Ordinal);
        Assert.Contains("ETA: next update in 15 min", text, StringComparison.Ordinal);
        Assert.Equal("🚨 INCIDENT DETECTED 🚨", content.GetProperty("headline").GetString());
        Assert.Equal("62 %", content.GetProperty("facts")[0].GetProperty("value").GetString());
    }

    [Fact]
    public async Task A_condition_flapping_on_and_off_at_every_check_makes_one_incident()
    {
        check.Options.For = TimeSpan.FromSeconds(30);
        check.Options.ClearFor = TimeSpan.FromMinutes(1);

        for (var i = 0; i < 40; i++)
        {
            await CheckAsync(firing: i % 2 == 0);
        }

        Assert.Single(await IncidentsAsync());
        Assert.Equal(3, (await NoticesAsync()).Count(n => n.Kind == NoticeKind.Detected));
        Assert.DoesNotContain(await NoticesAsync(), n => n.Kind == NoticeKind.Resolved);
    }

    [Fact]
    public async Task An_incident_resolves_with_its_duration_once_the_condition_has_stayed_clear_for_its_checks_and_time()
    {
        check.Options.For = TimeSpan.Zero;
        check.Options.ClearFor = TimeSpan.FromSeconds(40);
        check.Options.ClearChecks = 3;
        await CheckAsync(firing: true);
        for (var i = 0; i < 9; i++)
        {
            await CheckAsync(firing: true);
        }

        await CheckAsync(firing: false);
        await CheckAsync(firing: false);
        await CheckAsync(firing: false);
        Assert.Equal("open", Assert.Single(await IncidentsAsync()).Status);

        await CheckAsync(firing: false);
        var incident = Assert.Single(await IncidentsAsync());
        Assert.Equal(("resolved", "monitor"), (incident.Status, incident.ResolvedBy));
        var resolved = (await NoticesAsync()).Where(n => n.Kind == NoticeKind.Resolved).ToList();
        Assert.Equal(3, resolved.Count);
        var text = resolved[0].Content.GetProperty("text").GetString()!;
        Assert.StartsWith("✅ INCIDENT RESOLVED", text, StringComparison.Ordinal);
        // Firing from 14:32:15 to its last firing reading 14:34:30, clear since; resolved at 14:35:30.
        Assert.Contains("Duration: 3 min", text, StringComparison.Ordinal);
        Assert.Contains("Root cause: 62 % of runs failed", text, StringComparison.Ordinal);
        Assert.Contains($"- Write the incident summary: GET /api/v1/incidents/{incident.Id}/report", text, StringComparison.Ordinal);

        await CheckAsync(firing: false);
        await CheckAsync(firing: false);
        Assert.Equal(3, (await NoticesAsync()).Count(n => n.Kind == NoticeKind.Resolved));
    }

    [Fact]
    public async Task A_p1_incident_gets_an_update_every_fifteen_minutes_and_a_p2_none()
    {
        check.Options.For = TimeSpan.Zero;
        check.Options.Rto = TimeSpan.FromDays(1);
        await CheckAsync(firing: true);

        await CheckAsync(firing: true, after: TimeSpan.FromMinutes(14));
        Assert.Empty(Updates(await NoticesAsync()));
        await CheckAsync(firing: true, after: TimeSpan.FromMinutes(1));
        Assert.Equal(new[] { 1 }, Updates(await NoticesAsync()));
        await CheckAsync(firing: true, after: TimeSpan.FromMinutes(15));
        Assert.Equal(new[] { 1, 2 }, Updates(await NoticesAsync()));
        // Forty-five minutes without a check (the database was away): one update, not three.
        await CheckAsync(firing: true, after: TimeSpan.FromMinutes(45));
        Assert.Equal(new[] { 1, 2, 3 }, Updates(await NoticesAsync()));
        var update = (await NoticesAsync()).Last(n => n.Kind == NoticeKind.Update).Content.GetProperty("text").GetString()!;
        Assert.StartsWith("📊 UPDATE (1 h 15 min)", update, StringComparison.Ordinal);
        // PagerDuty pages; it is not sent chat updates.
        Assert.DoesNotContain(await NoticesAsync(), n => n.Kind == NoticeKind.Update && n.Channel == NoticeChannel.PagerDuty);

        check.Severity = Severity.P2;
        check.Key = "other";
        await CheckAsync(firing: true);
        await CheckAsync(firing: true, after: TimeSpan.FromMinutes(40));
        var other = (await NoticesAsync()).Where(n => n.Content.GetProperty("dedupKey").GetString() == "other").ToList();
        Assert.Equal([NoticeKind.Detected], other.Where(n => n.Channel == NoticeChannel.Slack).Select(n => n.Kind));
        // P0 and P1 page; a P2 does not, unless PagerDuty's severities are configured to include it.
        Assert.DoesNotContain(other, n => n.Channel == NoticeChannel.PagerDuty);
        Assert.Equal(4, Updates(await NoticesAsync()).Length);
    }

    [Fact]
    public async Task An_incident_escalates_once_when_eighty_percent_of_its_rto_has_passed_since_it_started()
    {
        check.Options.For = TimeSpan.FromSeconds(30);
        check.Options.Rto = TimeSpan.FromMinutes(2);
        await CheckAsync(firing: true);                                  // 14:32:15, pending
        await CheckAsync(firing: true, after: TimeSpan.FromSeconds(30));  // 14:32:45, opened
        await CheckAsync(firing: true, after: TimeSpan.FromSeconds(65));  // 95 s after it started
        Assert.DoesNotContain(await NoticesAsync(), n => n.Kind == NoticeKind.Escalation);

        await CheckAsync(firing: true, after: TimeSpan.FromSeconds(1));   // 96 s = 80 % of 2 min
        var escalations = (await NoticesAsync()).Where(n => n.Kind == NoticeKind.Escalation).ToList();
        Assert.Equal([NoticeChannel.Slack, NoticeChannel.PagerDuty, NoticeChannel.Webhook], escalations.Select(n => n.Channel));
        var text = escalations[0].Content.GetProperty("text").GetString()!;
        Assert.StartsWith("ESCALATING to L2", text, StringComparison.Ordinal);
        Assert.Contains("Duration: 1 min", text, StringComparison.Ordinal);
        Assert.Contains("Impact: Workflows failing", text, StringComparison.Ordinal);
        Assert.Contains("Attempted: automatic checks since 14:32:15 UTC", text, StringComparison.Ordinal);

        await CheckAsync(firing: true, after: TimeSpan.FromMinutes(5));
        Assert.Equal(3, (await NoticesAsync()).Count(n => n.Kind == NoticeKind.Escalation));
        Assert.NotNull(Assert.Single(await IncidentsAsync()).EscalatedAt);
    }

    [Fact]
    public async Task Two_instances_applying_the_same_readings_at_once_open_one_incident_and_write_each_notice_once()
    {
        check.Options.For = TimeSpan.Zero;
        await using var otherSource = NpgsqlDataSource.Create(database.ConnectionString);
        var other = CreateEngine(otherSource);

        for (var i = 0; i < 10; i++)
        {
            await Task.WhenAll(engine.ApplyAsync(check, [check.Reading(true)], default), other.ApplyAsync(check, [check.Reading(true)], default));
            clock.Advance(TimeSpan.FromMinutes(4));
        }

        Assert.Single(await IncidentsAsync());
        var notices = await NoticesAsync();
        Assert.Equal(notices.Count, notices.Select(n => (n.Channel, n.Kind, n.Sequence)).Distinct().Count());
        Assert.Equal(new[] { 1, 2 }, Updates(notices));
    }

    [Fact]
    public async Task Resolving_by_hand_says_who_and_a_condition_still_firing_opens_a_new_incident_after_its_for_duration()
    {
        check.Options.For = TimeSpan.FromSeconds(30);
        await CheckAsync(firing: true);
        await CheckAsync(firing: true);
        await CheckAsync(firing: true);
        var id = Assert.Single(await IncidentsAsync()).Id;

        Assert.Equal(IncidentChange.Changed, await engine.AcknowledgeAsync(id, "alice", default));
        Assert.Equal(IncidentChange.AlreadyDone, await engine.AcknowledgeAsync(id, "alice", default));
        Assert.Equal(IncidentChange.Changed, await engine.ResolveAsync(id, "bob", "restarted the application", default));
        Assert.Equal(IncidentChange.AlreadyDone, await engine.ResolveAsync(id, "bob", null, default));
        Assert.Equal(IncidentChange.NotFound, await engine.ResolveAsync(Guid.NewGuid(), "bob", null, default));

        var first = Assert.Single(await IncidentsAsync());
        Assert.Equal(("resolved", "bob", "alice"), (first.Status, first.ResolvedBy, first.AcknowledgedBy));
        var resolved = (await NoticesAsync()).First(n => n.Kind == NoticeKind.Resolved).Content.GetProperty("text").GetString()!;
        Assert.Contains("Fix: restarted the application", resolved, StringComparison.Ordinal);
        Assert.Equal(["opened", "acknowledged", "resolved"], await EventsAsync(id));

        await CheckAsync(firing: true);
        await CheckAsync(firing: true);
        Assert.Single(await IncidentsAsync());
        await CheckAsync(firing: true);
        Assert.Equal(2, (await IncidentsAsync()).Count);
    }

    [Fact]
    public async Task No_configured_channel_means_incidents_without_notices()
    {
        engine = CreateEngine(database.DataSource, new NoticeOptions());
        check.Options.For = TimeSpan.Zero;
        await CheckAsync(firing: true);

        Assert.Single(await IncidentsAsync());
        Assert.Equal(0, await database.CountAsync("incident_notices"));
    }

    [Fact]
    public void A_notice_template_that_does_not_parse_is_refused_naming_its_setting()
    {
        var templates = new NoticeTemplates { Update = "{% if %}" };

        var error = Assert.Single(templates.Errors());
        Assert.StartsWith("Monitors:Templates:Update:", error, StringComparison.Ordinal);
    }

    private static int[] Updates(IEnumerable<Notice> notices) =>
        notices.Where(n => n.Kind == NoticeKind.Update && n.Channel == NoticeChannel.Slack).Select(n => n.Sequence).ToArray();

    private IncidentEngine CreateEngine(NpgsqlDataSource dataSource, NoticeOptions? notices = null) => new(
        dataSource,
        Options.Create(new MonitorsOptions()),
        Options.Create(notices ?? new NoticeOptions
        {
            Slack = new SlackNoticeOptions { WebhookUrl = "http://127.0.0.1:9/slack" },
            PagerDuty = new PagerDutyNoticeOptions { RoutingKey = "routing-key-for-tests" },
            Webhook = new WebhookNoticeOptions { Url = "http://127.0.0.1:9/hook", Secret = "signing-secret" },
        }),
        Options.Create(new NoticeTemplates()),
        clock,
        NullLogger<IncidentEngine>.Instance,
        []);

    private async Task CheckAsync(bool firing, TimeSpan? after = null)
    {
        clock.Advance(after ?? Interval);
        await engine.ApplyAsync(check, [check.Reading(firing)], default);
    }

    private async Task<List<IncidentRecord>> IncidentsAsync()
    {
        await using var command = database.DataSource.CreateCommand(
            "SELECT id, status, severity, started_at, resolved_by, acknowledged_by, escalated_at FROM incidents ORDER BY opened_at");
        await using var reader = await command.ExecuteReaderAsync();
        var rows = new List<IncidentRecord>();
        while (await reader.ReadAsync())
        {
            rows.Add(new IncidentRecord(
                reader.GetGuid(0), reader.GetString(1), reader.GetString(2), reader.GetFieldValue<DateTimeOffset>(3),
                reader.IsDBNull(4) ? null : reader.GetString(4), reader.IsDBNull(5) ? null : reader.GetString(5),
                reader.IsDBNull(6) ? null : reader.GetFieldValue<DateTimeOffset>(6)));
        }

        return rows;
    }

    private async Task<List<Notice>> NoticesAsync()
    {
        await using var command = database.DataSource.CreateCommand("SELECT channel, kind, sequence, content::text FROM incident_notices ORDER BY id");
        await using var reader = await command.ExecuteReaderAsync();
        var rows = new List<Notice>();
        while (await reader.ReadAsync())
        {
            rows.Add(new Notice(reader.GetString(0), reader.GetString(1), reader.GetInt32(2), JsonDocument.Parse(reader.GetString(3)).RootElement));
        }

        return rows;
    }

    private async Task<List<string>> EventsAsync(Guid id)
    {
        await using var command = database.DataSource.CreateCommand("SELECT kind FROM incident_events WHERE incident_id = $1 ORDER BY id");
        command.Parameters.Add(new NpgsqlParameter { Value = id });
        await using var reader = await command.ExecuteReaderAsync();
        var kinds = new List<string>();
        while (await reader.ReadAsync())
        {
            kinds.Add(reader.GetString(0));
        }

        return kinds;
    }

    private sealed record IncidentRecord(Guid Id, string Status, string Severity, DateTimeOffset StartedAt, string? ResolvedBy, string? AcknowledgedBy, DateTimeOffset? EscalatedAt);

    private sealed record Notice(string Channel, string Kind, int Sequence, JsonElement Content);

    /// <summary>A check whose readings the test decides: the failure-rate condition at 62 %.</summary>
    private sealed class FakeCheck : IMonitorCheck
    {
        public string Name => "FailureRate";

        public string Key { get; set; } = "failure-rate";

        public Severity Severity { get; set; } = Severity.P1;

        public MonitorCheckOptions Options { get; } = new() { ClearFor = TimeSpan.FromMinutes(1), ClearChecks = 3 };

        public bool Firing { get; set; }

        public ConditionReading Reading(bool firing) => new(
            Key, firing, Severity, "Workflow failure rate 62 %", "Workflows failing, 62% error rate", "62 % of runs failed",
            "curl http://localhost:8080/metrics | grep error_total", [KeyValuePair.Create("failed share", "62 %")]);

        public Task<IReadOnlyList<ConditionReading>> EvaluateAsync(CancellationToken cancellationToken) =>
            Task.FromResult<IReadOnlyList<ConditionReading>>([Reading(Firing)]);
    }
}
