using Microsoft.Extensions.Time.Testing;
using Orchestrator.Core.Incidents;
using Orchestrator.Core.Tests.Fakes;
using static Orchestrator.Core.Tests.Fakes.IncidentRows;

namespace Orchestrator.Core.Tests.Incidents;

/// <summary>The incident read model over rows as the engine writes them: list filters and pages, the timeline, the impact and the report.</summary>
public sealed class IncidentQueriesTests : IAsyncLifetime
{
    private readonly PostgresDatabase database = new();
    private readonly FakeTimeProvider time = new(T0 + TimeSpan.FromHours(2));
    private IncidentQueries queries = null!;

    public async Task InitializeAsync()
    {
        await database.InitializeAsync();
        queries = new IncidentQueries(database.DataSource, time);
    }

    public Task DisposeAsync() => database.DisposeAsync();

    [Fact]
    public async Task The_list_is_newest_first_and_filters_by_severity_and_status()
    {
        var oldP1 = await IncidentAsync(database.DataSource, T0, "P1", "resolved", resolvedAt: T0 + TimeSpan.FromMinutes(20), resolvedBy: "monitor");
        var p2 = await IncidentAsync(database.DataSource, T0 + TimeSpan.FromMinutes(5), "P2", "acknowledged", acknowledgedBy: "admin-token");
        var p0 = await IncidentAsync(database.DataSource, T0 + TimeSpan.FromMinutes(10), "P0");
        var p3 = await IncidentAsync(database.DataSource, T0 + TimeSpan.FromMinutes(15), "P3");

        var all = await queries.ListAsync(new IncidentListQuery(null, null, null, 50), default);
        var urgent = await queries.ListAsync(new IncidentListQuery(["P0", "P1"], null, null, 50), default);
        var unresolved = await queries.ListAsync(new IncidentListQuery(null, ["open", "acknowledged"], null, 50), default);
        var urgentOpen = await queries.ListAsync(new IncidentListQuery(["P0", "P1"], ["open"], null, 50), default);

        Assert.Equal([p3, p0, p2, oldP1], all.Select(i => i.Id));
        Assert.Equal([p0, oldP1], urgent.Select(i => i.Id));
        Assert.Equal([p3, p0, p2], unresolved.Select(i => i.Id));
        Assert.Equal([p0], urgentOpen.Select(i => i.Id));
        Assert.Equal("admin-token", all.Single(i => i.Id == p2).AcknowledgedBy);
    }

    [Fact]
    public async Task Pages_follow_the_cursor_to_the_end_without_repeating_or_skipping_incidents_opened_at_the_same_moment()
    {
        var ids = new List<Guid>();
        for (var i = 0; i < 5; i++)
        {
            // Two pairs share an opening time, so only the id orders them.
            ids.Add(await IncidentAsync(database.DataSource, T0 + TimeSpan.FromTicks(10 * (i / 2))));
        }

        var seen = new List<Guid>();
        IncidentListCursor? cursor = null;
        for (var page = 0; page < 10; page++)
        {
            var rows = await queries.ListAsync(new IncidentListQuery(null, null, cursor, 2), default);
            seen.AddRange(rows.Take(2).Select(r => r.Id));
            if (rows.Count <= 2)
            {
                break;
            }

            Assert.True(IncidentListCursor.TryDecode(new IncidentListCursor(rows[1].OpenedAt, rows[1].Id).Encode(), out cursor));
        }

        Assert.Equal(5, seen.Count);
        Assert.Equal(ids.ToHashSet(), seen.ToHashSet());
        var expected = (await queries.ListAsync(new IncidentListQuery(null, null, null, 50), default)).Select(r => r.Id);
        Assert.Equal(expected, seen);
    }

    [Theory]
    [InlineData("")]
    [InlineData("not base64!")]
    [InlineData("djE6MTIzOmFiYw")] // "v1:123:abc": a run cursor's shape with an id that is no UUID
    public void A_cursor_the_api_did_not_hand_out_is_refused(string text) => Assert.False(IncidentListCursor.TryDecode(text, out _));

    [Fact]
    public async Task One_incident_comes_with_its_events_in_time_order_and_its_notices_in_ledger_order()
    {
        var id = await IncidentAsync(database.DataSource, T0, acknowledgedBy: "admin-token");
        await IncidentAsync(database.DataSource, T0); // another incident's rows must not show
        await EventAsync(database.DataSource, id, T0, "opened", "monitor");
        await EventAsync(database.DataSource, id, T0 + TimeSpan.FromMinutes(15), "updated", "monitor", """{"sequence": 1}""");
        await EventAsync(database.DataSource, id, T0 + TimeSpan.FromMinutes(2), "acknowledged", "admin-token");
        await NoticeAsync(database.DataSource, id, "detected", 0, "slack", "sent", T0);
        await NoticeAsync(database.DataSource, id, "detected", 0, "teams", "rejected", T0, attempts: 1, lastStatusCode: 400, lastError: "bad card");
        await NoticeAsync(database.DataSource, id, "update", 1, "slack", "pending", T0 + TimeSpan.FromMinutes(15), attempts: 3, lastStatusCode: 503);

        var detail = await queries.GetAsync(id, default);

        Assert.NotNull(detail);
        Assert.Equal(id, detail.Incident.Id);
        Assert.Equal(["opened", "acknowledged", "updated"], detail.Events.Select(e => e.Kind));
        Assert.Equal("""{"sequence": 1}""", detail.Events[2].DetailJson);
        Assert.Equal([("slack", "detected", "sent"), ("teams", "detected", "rejected"), ("slack", "update", "pending")],
            detail.Notices.Select(n => (n.Channel, n.Kind, n.Status)));
        Assert.Equal((400, "bad card"), (detail.Notices[1].LastStatusCode, detail.Notices[1].LastError));
        Assert.Equal((3, 1, (DateTimeOffset?)null), (detail.Notices[2].Attempts, detail.Notices[2].Sequence, detail.Notices[2].SentAt));
        Assert.Equal(T0, detail.Notices[0].SentAt);
    }

    [Fact]
    public async Task An_unknown_incident_is_null_for_the_timeline_and_the_report()
    {
        Assert.Null(await queries.GetAsync(Guid.NewGuid(), default));
        Assert.Null(await queries.ReportAsync(Guid.NewGuid(), default));
    }

    [Fact]
    public async Task The_impact_counts_runs_that_failed_in_the_window_and_runs_in_flight_during_it()
    {
        // Started T0 - 1 min, resolved T0 + 20 min.
        var id = await IncidentAsync(database.DataSource, T0, status: "resolved", resolvedAt: T0 + TimeSpan.FromMinutes(20), resolvedBy: "monitor");
        var minutes = (int m) => T0 + TimeSpan.FromMinutes(m);
        await RunAsync(database.DataSource, "failed-in", "Failed", minutes(-30), minutes(5));
        await RunAsync(database.DataSource, "failed-in-2", "Failed", minutes(1), minutes(19));
        await RunAsync(database.DataSource, "failed-before", "Failed", minutes(-30), minutes(-10));
        await RunAsync(database.DataSource, "failed-after", "Failed", minutes(21), minutes(25));
        await RunAsync(database.DataSource, "completed-during", "Completed", minutes(-5), minutes(10));
        await RunAsync(database.DataSource, "completed-before", "Completed", minutes(-40), minutes(-20));
        await RunAsync(database.DataSource, "still-running", "Running", minutes(-3), minutes(-3));
        await RunAsync(database.DataSource, "started-after", "Running", minutes(30), minutes(30));

        var impact = await queries.ImpactAsync((await queries.GetAsync(id, default))!.Incident, default);

        Assert.Equal((minutes(-1), minutes(20)), (impact.From, impact.To));
        Assert.Equal(2, impact.RunsFailed);
        Assert.Equal(4, impact.RunsInFlight); // failed-in, failed-in-2, completed-during, still-running
    }

    [Fact]
    public async Task The_impact_of_an_unresolved_incident_runs_to_now()
    {
        var id = await IncidentAsync(database.DataSource, T0);
        await RunAsync(database.DataSource, "failed-later", "Failed", T0, T0 + TimeSpan.FromMinutes(90));

        var impact = await queries.ImpactAsync((await queries.GetAsync(id, default))!.Incident, default);

        Assert.Equal(time.GetUtcNow(), impact.To);
        Assert.Equal(1, impact.RunsFailed);
    }

    [Fact]
    public async Task The_report_summarises_times_impact_measurements_timeline_notices_and_follow_up()
    {
        var id = await IncidentAsync(
            database.DataSource, T0, "P1", "resolved", title: "Replication lag 41 s on replica",
            resolvedAt: T0 + TimeSpan.FromMinutes(22), resolvedBy: "admin-token", acknowledgedBy: "api-key:oncall", resolution: "Rebuilt the replica");
        await EventAsync(database.DataSource, id, T0, "opened", "monitor");
        await EventAsync(database.DataSource, id, T0 + TimeSpan.FromMinutes(2), "acknowledged", "api-key:oncall");
        await EventAsync(database.DataSource, id, T0 + TimeSpan.FromMinutes(22), "resolved", "admin-token", """{"resolution": "Rebuilt the replica"}""");
        await NoticeAsync(database.DataSource, id, "detected", 0, "slack", "sent", T0);
        await NoticeAsync(database.DataSource, id, "resolved", 0, "slack", "sent", T0 + TimeSpan.FromMinutes(22));
        await NoticeAsync(database.DataSource, id, "detected", 0, "teams", "rejected", T0, lastStatusCode: 410, lastError: "channel | archived\nfor good");
        await RunAsync(database.DataSource, "r-failed", "Failed", T0, T0 + TimeSpan.FromMinutes(3));
        await RunAsync(database.DataSource, "r-running", "Running", T0, T0);

        var report = await queries.ReportAsync(id, default);

        Assert.NotNull(report);
        Assert.StartsWith("# Incident summary: Replication lag 41 s on replica\n", report, StringComparison.Ordinal);
        Assert.Contains("| Severity | P1 (high, 30 min response) |", report, StringComparison.Ordinal);
        Assert.Contains("| Status | Resolved |", report, StringComparison.Ordinal);
        Assert.Contains("| Started | 2026-03-02 14:31:00 UTC", report, StringComparison.Ordinal);
        Assert.Contains("| Opened | 2026-03-02 14:32:00 UTC |", report, StringComparison.Ordinal);
        Assert.Contains("| Acknowledged | 2026-03-02 14:34:00 UTC by api-key:oncall |", report, StringComparison.Ordinal);
        Assert.Contains("| Resolved | 2026-03-02 14:54:00 UTC by admin-token |", report, StringComparison.Ordinal);
        Assert.Contains("| Duration | 23 minutes |", report, StringComparison.Ordinal);
        Assert.Contains("- Runs that failed: 1\n", report, StringComparison.Ordinal);
        Assert.Contains("- Runs in flight (delayed or failed): 2\n", report, StringComparison.Ordinal);
        Assert.Contains("- **lag**: 41 s\n", report, StringComparison.Ordinal);
        Assert.Contains("- **bytes behind**: 12 MB\n", report, StringComparison.Ordinal);
        Assert.Contains("## Resolution\n\nRebuilt the replica\n", report, StringComparison.Ordinal);
        Assert.Contains("| 2026-03-02 14:54:00 UTC | resolved | admin-token | resolution: Rebuilt the replica |", report, StringComparison.Ordinal);
        Assert.True(
            report.IndexOf("| opened | monitor |", StringComparison.Ordinal) < report.IndexOf("| acknowledged | api-key:oncall |", StringComparison.Ordinal),
            "the timeline is in time order");
        Assert.Contains("- **slack**: 2 sent\n", report, StringComparison.Ordinal);
        Assert.Contains("- **teams**: 1 rejected\n", report, StringComparison.Ordinal);
        Assert.Contains("| teams | detected | rejected | 1 | 2026-03-02 14:32:00 UTC |  | 410 | channel \\| archived for good |", report, StringComparison.Ordinal);
        Assert.Contains("- [ ] Schedule post-mortem\n", report, StringComparison.Ordinal);
        Assert.Contains("- [ ] Update monitoring/alerts\n", report, StringComparison.Ordinal);
        Assert.Contains("- [x] Write incident summary (this document)\n", report, StringComparison.Ordinal);
    }

    [Fact]
    public async Task The_report_of_an_open_incident_gives_its_duration_so_far_and_facts_stored_as_pairs()
    {
        var id = await IncidentAsync(database.DataSource, T0, "P2", facts: """[{"Key": "pool busy", "Value": "19 / 20"}]""");

        var report = await queries.ReportAsync(id, default);

        Assert.Contains("| Status | Open |", report, StringComparison.Ordinal);
        Assert.Contains("| Resolved | not yet |", report, StringComparison.Ordinal);
        Assert.Contains("| Duration | 2 h 1 min so far |", report, StringComparison.Ordinal);
        Assert.Contains("- **pool busy**: 19 / 20\n", report, StringComparison.Ordinal);
        Assert.Contains("No notice was written for this incident", report, StringComparison.Ordinal);
    }
}
