using System.Net;
using System.Text.Json.Nodes;
using Npgsql;
using Orchestrator.Core.Tests.Fakes;
using Orchestrator.Server.Tests.Infrastructure;

namespace Orchestrator.Server.Tests;

/// <summary>
/// <c>/api/v1/incidents</c> on the Server over rows written as the engine writes them: the list, one incident's
/// timeline, the Markdown report, who may do what, and a problem naming the field for every bad input.
/// </summary>
[Collection(EndToEnd.Name)]
public sealed class IncidentApiTests(ServerFixture fixture) : IClassFixture<ServerFixture>, IAsyncLifetime
{
    private const string Route = "/api/v1/incidents";

    // Later than anything the other tests of this class write, so these are the newest incidents.
    private static readonly DateTimeOffset Newest = new(2099, 1, 1, 0, 0, 0, TimeSpan.Zero);

    private NpgsqlDataSource db = null!;
    private OrchestratorApi admin = null!;
    private OrchestratorApi anonymous = null!;

    public Task InitializeAsync()
    {
        db = NpgsqlDataSource.Create(fixture.Database);
        admin = new OrchestratorApi(fixture.Server.BaseAddress, TestEnvironment.AdminToken);
        anonymous = new OrchestratorApi(fixture.Server.BaseAddress, token: null);
        return Task.CompletedTask;
    }

    public async Task DisposeAsync()
    {
        admin.Dispose();
        anonymous.Dispose();
        await db.DisposeAsync();
    }

    [Fact]
    public async Task The_list_is_newest_first_and_filters_by_severity_and_status_with_an_api_key()
    {
        var resolved = await IncidentRows.IncidentAsync(db, Newest, "P1", "resolved", resolvedAt: Newest + TimeSpan.FromMinutes(5), resolvedBy: "monitor");
        var acknowledged = await IncidentRows.IncidentAsync(db, Newest + TimeSpan.FromMinutes(1), "P2", "acknowledged", acknowledgedBy: "admin-token");
        var open = await IncidentRows.IncidentAsync(db, Newest + TimeSpan.FromMinutes(2), "P0");

        var all = await ListIdsAsync("");
        var urgent = await ListIdsAsync("?severity=P0,P1");
        var repeated = await ListIdsAsync("?severity=p0&severity=P2");
        var unresolved = await ListIdsAsync("?status=unresolved");
        var openOrResolved = await ListIdsAsync("?status=open&status=resolved&severity=P0,P1,P2");

        Assert.Equal([open, acknowledged, resolved], all.Take(3));
        Assert.Equal([open, resolved], urgent.Where(new[] { open, acknowledged, resolved }.Contains));
        Assert.Equal([open, acknowledged], repeated.Where(new[] { open, acknowledged, resolved }.Contains));
        Assert.Equal([open, acknowledged], unresolved.Where(new[] { open, acknowledged, resolved }.Contains));
        Assert.Equal([open, resolved], openOrResolved.Where(new[] { open, acknowledged, resolved }.Contains));
        var (_, body, _) = await fixture.Api.GetAsync(Route + "?limit=1");
        var item = body!["items"]![0]!;
        Assert.Equal(open.ToString(), item["id"]!.GetValue<string>());
        Assert.Equal(("P0", "open", "ReplicaLag"), (item["severity"]!.GetValue<string>(), item["status"]!.GetValue<string>(), item["check"]!.GetValue<string>()));
        Assert.Equal("41 s", item["facts"]!["lag"]!.GetValue<string>());
    }

    [Fact]
    public async Task Pages_follow_next_cursor_through_every_incident_once()
    {
        var mine = new List<Guid>();
        for (var i = 0; i < 5; i++)
        {
            mine.Add(await IncidentRows.IncidentAsync(db, new DateTimeOffset(2098, 1, 1, 0, 0, 0, TimeSpan.Zero), "P3"));
        }

        var seen = new List<string>();
        string? cursor = null;
        var pages = 0;
        do
        {
            var (status, body, _) = await fixture.Api.GetAsync(Route + "?severity=P3&limit=2" + (cursor is null ? "" : "&cursor=" + Uri.EscapeDataString(cursor)));
            Assert.Equal(HttpStatusCode.OK, status);
            Assert.True(body!["count"]!.GetValue<int>() <= 2);
            seen.AddRange(body["items"]!.AsArray().Select(i => i!["id"]!.GetValue<string>()));
            cursor = body["nextCursor"]?.GetValue<string>();
            Assert.True(++pages < 100, "the cursor never ran out");
        }
        while (cursor is not null);

        Assert.Equal(seen.Count, seen.Distinct().Count());
        Assert.Subset(seen.ToHashSet(), mine.Select(m => m.ToString()).ToHashSet());
    }

    [Fact]
    public async Task One_incident_shows_its_timeline_and_every_notice_with_its_delivery()
    {
        var id = await IncidentRows.IncidentAsync(db, IncidentRows.T0, acknowledgedBy: "admin-token");
        await IncidentRows.EventAsync(db, id, IncidentRows.T0, "opened", "monitor");
        await IncidentRows.EventAsync(db, id, IncidentRows.T0 + TimeSpan.FromMinutes(2), "acknowledged", "admin-token");
        await IncidentRows.NoticeAsync(db, id, "detected", 0, "slack", "sent", IncidentRows.T0);
        await IncidentRows.NoticeAsync(db, id, "detected", 0, "teams", "rejected", IncidentRows.T0, attempts: 2, lastStatusCode: 410, lastError: "channel_is_archived");

        var (status, body, _) = await fixture.Api.GetAsync($"{Route}/{id}");

        Assert.Equal(HttpStatusCode.OK, status);
        Assert.Equal(id.ToString(), body!["incident"]!["id"]!.GetValue<string>());
        Assert.Equal("admin-token", body["incident"]!["acknowledgedBy"]!.GetValue<string>());
        Assert.Equal(["opened", "acknowledged"], body["timeline"]!.AsArray().Select(e => e!["kind"]!.GetValue<string>()));
        Assert.Equal("admin-token", body["timeline"]![1]!["actor"]!.GetValue<string>());
        var notices = body["notices"]!.AsArray();
        Assert.Equal([("slack", "sent"), ("teams", "rejected")], notices.Select(n => (n!["channel"]!.GetValue<string>(), n["status"]!.GetValue<string>())));
        var rejected = notices[1]!;
        Assert.Equal((2, 410, "channel_is_archived"), (rejected["attempts"]!.GetValue<int>(), rejected["lastStatusCode"]!.GetValue<int>(), rejected["lastError"]!.GetValue<string>()));
        Assert.Equal(("detected", 0), (rejected["kind"]!.GetValue<string>(), rejected["sequence"]!.GetValue<int>()));
        Assert.NotNull(notices[0]!["sentAt"]);
        Assert.NotNull(notices[0]!["createdAt"]);
    }

    [Fact]
    public async Task The_report_is_markdown_with_the_incident_its_impact_and_its_notices()
    {
        var id = await IncidentRows.IncidentAsync(db, IncidentRows.T0, title: "Connection pool saturated: 19 of 20 busy");
        await IncidentRows.NoticeAsync(db, id, "detected", 0, "slack", "sent", IncidentRows.T0);

        var (status, body, response) = await fixture.Api.GetAsync($"{Route}/{id}/report");

        Assert.Equal(HttpStatusCode.OK, status);
        Assert.Equal("text/markdown", response.Content.Headers.ContentType?.MediaType);
        var text = body!.GetValue<string>();
        Assert.StartsWith("# Incident summary: Connection pool saturated: 19 of 20 busy", text, StringComparison.Ordinal);
        Assert.Contains("## Impact", text, StringComparison.Ordinal);
        Assert.Contains("- **slack**: 1 sent", text, StringComparison.Ordinal);
        Assert.Contains("- [ ] Schedule post-mortem", text, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("GET", "")]
    [InlineData("GET", "/0b7e4c1a-8f0e-4a51-9f4e-0c1d2e3f4a5b")]
    [InlineData("GET", "/0b7e4c1a-8f0e-4a51-9f4e-0c1d2e3f4a5b/report")]
    [InlineData("POST", "/0b7e4c1a-8f0e-4a51-9f4e-0c1d2e3f4a5b/acknowledge")]
    [InlineData("POST", "/0b7e4c1a-8f0e-4a51-9f4e-0c1d2e3f4a5b/resolve")]
    public async Task Without_a_token_every_incident_route_answers_401(string method, string path)
    {
        var (status, problem, response) = method == "GET" ? await anonymous.GetAsync(Route + path) : await anonymous.PostRawAsync(Route + path, "");

        Assert.Equal(HttpStatusCode.Unauthorized, status);
        Assert.Equal("Bearer", Assert.Single(response.Headers.WwwAuthenticate).Scheme);
        Assert.Equal(401, problem!["status"]!.GetValue<int>());
    }

    [Theory]
    [InlineData("acknowledge")]
    [InlineData("resolve")]
    public async Task An_api_key_may_not_acknowledge_or_resolve_and_nothing_changes(string action)
    {
        var id = await IncidentRows.IncidentAsync(db, IncidentRows.T0);

        var (status, problem, _) = await fixture.Api.PostRawAsync($"{Route}/{id}/{action}", "");

        Assert.Equal(HttpStatusCode.Forbidden, status);
        Assert.Contains("admin token", problem!["detail"]!.GetValue<string>(), StringComparison.Ordinal);
        Assert.Equal(("open", 0L), await StatusAsync(id));
    }

    public static TheoryData<string, string> BadQueries => new()
    {
        { "?severity=P5", "severity" },
        { "?severity=", "severity" },
        { "?status=closed", "status" },
        { "?status=open&status=gone", "status" },
        { "?limit=0", "limit" },
        { "?limit=201", "limit" },
        { "?limit=ten", "limit" },
        { "?limit=1&limit=2", "limit" },
        { "?cursor=not-a-cursor", "cursor" },
        { "?cursor=djE6MTIzOmFiYw", "cursor" }, // "v1:123:abc": well formed, but no incident id in it
        { "?sort=severity", "sort" },
    };

    [Theory]
    [MemberData(nameof(BadQueries))]
    public async Task A_bad_list_query_is_a_400_problem_naming_the_parameter(string query, string field)
    {
        var (status, problem, response) = await fixture.Api.GetAsync(Route + query);

        AssertProblem(HttpStatusCode.BadRequest, field, status, problem, response);
    }

    public static TheoryData<string, string, string> BadBodies => new()
    {
        { "resolve", "{\"resolution\": 5}", "resolution" },
        { "resolve", "{\"resolution\": [\"a\"]}", "resolution" },
        { "resolve", "{\"resolution\": \"" + new string('x', 1001) + "\"}", "resolution" },
        { "resolve", "{\"resolution\": \"bell\\u0007\"}", "resolution" },
        { "resolve", "{\"resolution\": \"x\"", "body" },
        { "resolve", "[1]", "body" },
        { "resolve", "{\"reason\": \"x\"}", "reason" },
        { "acknowledge", "{\"by\": \"me\"}", "by" },
        { "acknowledge", "{not json", "body" },
    };

    [Theory]
    [MemberData(nameof(BadBodies))]
    public async Task A_bad_body_is_a_400_problem_naming_the_field_and_changes_nothing(string action, string body, string field)
    {
        var id = await IncidentRows.IncidentAsync(db, IncidentRows.T0);

        var (status, problem, response) = await admin.PostRawAsync($"{Route}/{id}/{action}", body);

        AssertProblem(HttpStatusCode.BadRequest, field, status, problem, response);
        Assert.Equal(("open", 0L), await StatusAsync(id));
    }

    [Theory]
    [InlineData("GET", "/0b7e4c1a-8f0e-4a51-9f4e-0c1d2e3f4a5b")]
    [InlineData("GET", "/0b7e4c1a-8f0e-4a51-9f4e-0c1d2e3f4a5b/report")]
    [InlineData("GET", "/not-a-uuid")]
    [InlineData("GET", "/not-a-uuid/report")]
    [InlineData("GET", "/%27%3B%20DROP%20TABLE%20incidents%3B--")]
    [InlineData("POST", "/not-a-uuid/acknowledge")]
    [InlineData("POST", "/12345/resolve")]
    public async Task An_unknown_or_malformed_id_is_a_404_problem(string method, string path)
    {
        var (status, problem, response) = method == "GET" ? await admin.GetAsync(Route + path) : await admin.PostRawAsync(Route + path, "");

        AssertProblem(HttpStatusCode.NotFound, "id", status, problem, response);
    }

    [Fact]
    public async Task Metrics_export_unresolved_incidents_for_every_severity()
    {
        var (status, body, _) = await anonymous.GetAsync("/metrics");

        Assert.Equal(HttpStatusCode.OK, status);
        var text = body!.GetValue<string>();
        foreach (var severity in new[] { "P0", "P1", "P2", "P3" })
        {
            Assert.Contains($"llm_orchestrator_incidents_open{{severity=\"{severity}\"}} ", text, StringComparison.Ordinal);
        }
    }

    // The tests below go through IncidentEngine.AcknowledgeAsync / ResolveAsync: they pass once the engine is implemented.
    [Fact]
    [Trait("Needs", "IncidentEngine")]
    public async Task Acknowledging_records_the_admin_and_a_second_acknowledge_is_a_409()
    {
        var id = await IncidentRows.IncidentAsync(db, IncidentRows.T0);

        var (status, body, _) = await admin.PostRawAsync($"{Route}/{id}/acknowledge", "");
        var (again, problem, _) = await admin.PostRawAsync($"{Route}/{id}/acknowledge", "");

        Assert.True(status == HttpStatusCode.OK, $"{status}: {body}");
        Assert.Equal("acknowledged", body!["incident"]!["status"]!.GetValue<string>());
        Assert.Equal("admin-token", body["incident"]!["acknowledgedBy"]!.GetValue<string>());
        Assert.Contains(body["timeline"]!.AsArray(), e => e!["kind"]!.GetValue<string>() == "acknowledged" && e["actor"]!.GetValue<string>() == "admin-token");
        Assert.Equal(HttpStatusCode.Conflict, again);
        Assert.Contains("already acknowledged", problem!["detail"]!.GetValue<string>(), StringComparison.Ordinal);
    }

    [Fact]
    [Trait("Needs", "IncidentEngine")]
    public async Task Resolving_by_hand_says_who_and_why_and_a_second_resolve_is_a_409()
    {
        var id = await IncidentRows.IncidentAsync(db, IncidentRows.T0);

        var (status, body, _) = await admin.PostAsync($"{Route}/{id}/resolve", new JsonObject { ["resolution"] = "Restarted the replica" });
        var (again, problem, _) = await admin.PostRawAsync($"{Route}/{id}/resolve", "");
        var (ackAfter, _, _) = await admin.PostRawAsync($"{Route}/{id}/acknowledge", "");

        Assert.True(status == HttpStatusCode.OK, $"{status}: {body}");
        var incident = body!["incident"]!;
        Assert.Equal(("resolved", "admin-token", "Restarted the replica"),
            (incident["status"]!.GetValue<string>(), incident["resolvedBy"]!.GetValue<string>(), incident["resolution"]!.GetValue<string>()));
        Assert.Equal(HttpStatusCode.Conflict, again);
        Assert.Contains("already resolved", problem!["detail"]!.GetValue<string>(), StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.Conflict, ackAfter);
    }

    [Fact]
    [Trait("Needs", "IncidentEngine")]
    public async Task Acknowledging_an_unknown_incident_is_a_404()
    {
        var (status, problem, response) = await admin.PostRawAsync($"{Route}/{Guid.NewGuid()}/acknowledge", "");

        AssertProblem(HttpStatusCode.NotFound, "id", status, problem, response);
    }

    private static void AssertProblem(HttpStatusCode expected, string field, HttpStatusCode status, JsonNode? problem, HttpResponseMessage response)
    {
        Assert.True(status == expected, $"expected {expected}, got {status}: {problem}");
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        var paths = problem!["errors"]!.AsArray().Select(e => e!["path"]!.GetValue<string>()).ToList();
        Assert.True(paths.Contains(field), $"expected an error at {field}, got {problem}");
        Assert.DoesNotContain("   at ", problem.ToJsonString(), StringComparison.Ordinal);
    }

    private async Task<List<Guid>> ListIdsAsync(string query)
    {
        var (status, body, _) = await fixture.Api.GetAsync(Route + query + (query.Length == 0 ? "?" : "&") + "limit=200");
        Assert.True(status == HttpStatusCode.OK, $"{query}: {status} {body}");
        return body!["items"]!.AsArray().Select(i => Guid.Parse(i!["id"]!.GetValue<string>())).ToList();
    }

    private async Task<(string Status, long Events)> StatusAsync(Guid id)
    {
        var rows = await fixture.RowsAsync("SELECT status, (SELECT count(*) FROM incident_events WHERE incident_id = @id) AS events FROM incidents WHERE id = @id", ("id", id));
        return ((string)rows[0]["status"]!, (long)rows[0]["events"]!);
    }
}
