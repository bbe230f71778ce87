using System.Net;
using System.Text.Json.Nodes;
using Orchestrator.Server.Tests.Infrastructure;

namespace Orchestrator.Server.Tests;

/// <summary>Maintenance mode refuses new starts only; it is audited, idempotent, and visible in /health and /metrics.</summary>
[Collection(EndToEnd.Name)]
public sealed class MaintenanceTests(ServerFixture fixture) : IClassFixture<ServerFixture>, IDisposable
{
    private readonly OrchestratorApi admin = new(fixture.Server.BaseAddress, TestEnvironment.AdminToken);

    [Fact]
    public async Task Maintenance_refuses_new_starts_with_503_and_Retry_After_while_running_workflows_finish_and_the_rest_keeps_working()
    {
        var tag = Definitions.Tag();
        var waiting = await fixture.Api.StartAsync(Definitions.Waiting(tag), new JsonObject { ["text"] = "a" });
        var toCancel = await fixture.Api.StartAsync(Definitions.Waiting(tag + "c"), new JsonObject { ["text"] = "b" });
        await fixture.Api.WaitForWaitingAsync(waiting);
        await fixture.Api.WaitForWaitingAsync(toCancel);
        try
        {
            var (status, enabled, _) = await admin.PostAsync("/admin/maintenance/enable", new JsonObject { ["reason"] = "database upgrade" });
            Assert.Equal(HttpStatusCode.OK, status);
            Assert.True(enabled!["enabled"]!.GetValue<bool>());
            Assert.True(enabled["changed"]!.GetValue<bool>());
            Assert.Equal("admin-token", enabled["by"]!.GetValue<string>());

            var runsBefore = await fixture.ScalarAsync("SELECT count(*) FROM workflow_states");
            var (refused, problem, response) = await fixture.Api.PostAsync("/api/v1/workflows", new JsonObject
            {
                ["definition"] = Definitions.Chain(tag, 1),
                ["input"] = new JsonObject { ["text"] = "refused" },
            });
            Assert.Equal(HttpStatusCode.ServiceUnavailable, refused);
            Assert.True(response.Headers.RetryAfter?.Delta > TimeSpan.Zero, "a refused start carries Retry-After");
            Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
            Assert.Contains("maintenance", problem!["type"]!.GetValue<string>(), StringComparison.Ordinal);
            Assert.Contains("database upgrade", problem["detail"]!.GetValue<string>(), StringComparison.Ordinal);
            Assert.Equal(runsBefore, await fixture.ScalarAsync("SELECT count(*) FROM workflow_states"));

            // Everything but a new start keeps working: status, list, events (the waiting run finishes), cancel, retry.
            Assert.Equal(HttpStatusCode.OK, (await fixture.Api.GetAsync($"/api/v1/workflows/{waiting}")).Status);
            Assert.Equal(HttpStatusCode.OK, (await fixture.Api.GetAsync("/api/v1/workflows?status=Running")).Status);
            Assert.Equal(HttpStatusCode.Accepted, (await fixture.Api.PostAsync($"/api/v1/workflows/{waiting}/events/approve", new JsonObject { ["approved"] = true })).Status);
            await fixture.Api.WaitForStatusAsync(waiting, "Completed");
            Assert.Equal(HttpStatusCode.OK, (await fixture.Api.PostAsync($"/api/v1/workflows/{toCancel}/cancel", null)).Status);
            Assert.Equal(HttpStatusCode.Accepted, (await fixture.Api.PostAsync($"/api/v1/workflows/{toCancel}/retry", null)).Status);

            var (_, health, _) = await fixture.Api.GetAsync("/health");
            Assert.Equal("degraded", health!["status"]!.GetValue<string>());
            Assert.Equal("degraded", health["checks"]!["maintenance"]!["status"]!.GetValue<string>());
            await MetricBecomesAsync("llm_orchestrator_maintenance_mode", 1);
        }
        finally
        {
            var (off, disabled, _) = await admin.PostAsync("/admin/maintenance/disable", null);
            Assert.Equal(HttpStatusCode.OK, off);
            Assert.False(disabled!["enabled"]!.GetValue<bool>());
        }

        await fixture.Api.StartAsync(Definitions.Chain(tag, 1), new JsonObject { ["text"] = "accepted again" });
        await MetricBecomesAsync("llm_orchestrator_maintenance_mode", 0);
    }

    [Fact]
    public async Task Switching_maintenance_twice_changes_nothing_the_second_time_and_both_are_audited()
    {
        var auditBefore = await fixture.ScalarAsync("SELECT count(*) FROM admin_audit");
        try
        {
            var (_, first, _) = await admin.PostAsync("/admin/maintenance/enable", null);
            var (_, second, _) = await admin.PostAsync("/api/admin/maintenance/enable", null);
            var (_, state, _) = await admin.GetAsync("/admin/maintenance");

            Assert.True(first!["changed"]!.GetValue<bool>());
            Assert.False(second!["changed"]!.GetValue<bool>());
            Assert.Equal(first["since"]!.GetValue<DateTimeOffset>(), second["since"]!.GetValue<DateTimeOffset>());
            Assert.True(state!["enabled"]!.GetValue<bool>());
        }
        finally
        {
            await admin.PostAsync("/admin/maintenance/disable", null);
        }

        var audit = await fixture.RowsAsync("SELECT action, changed, actor FROM admin_audit WHERE id > (SELECT COALESCE(max(id), 0) - 3 FROM admin_audit) ORDER BY id");
        Assert.Equal(auditBefore + 3, await fixture.ScalarAsync("SELECT count(*) FROM admin_audit"));
        Assert.Equal(["maintenance.enable", "maintenance.enable", "maintenance.disable"], audit.Select(a => (string)a["action"]!));
        Assert.Equal([true, false, true], audit.Select(a => (bool)a["changed"]!));
        var (_, log, _) = await admin.GetAsync("/admin/audit?limit=3");
        Assert.Equal(3, log!["entries"]!.AsArray().Count);
    }

    [Theory]
    [InlineData("[1, 2]", "body")]
    [InlineData("\"on\"", "body")]
    [InlineData("{\"reason\": 5}", "reason")]
    [InlineData("{\"why\": \"x\"}", "why")]
    public async Task A_malformed_maintenance_request_is_refused_and_changes_nothing(string body, string field)
    {
        var before = await fixture.ScalarAsync("SELECT count(*) FROM admin_audit");

        var (status, problem, _) = await admin.PostRawAsync("/admin/maintenance/enable", body);

        Assert.Equal(HttpStatusCode.BadRequest, status);
        Assert.Equal(field, problem!["errors"]![0]!["path"]!.GetValue<string>());
        Assert.Equal(before, await fixture.ScalarAsync("SELECT count(*) FROM admin_audit"));
        Assert.False((await admin.GetAsync("/admin/maintenance")).Body!["enabled"]!.GetValue<bool>());
    }

    public void Dispose() => admin.Dispose();

    /// <summary>The series reaches <paramref name="value"/> within the metrics' database cache period (5 s) and a margin.</summary>
    private async Task MetricBecomesAsync(string series, double value)
    {
        var deadline = DateTimeOffset.UtcNow + TimeSpan.FromSeconds(10);
        double current;
        do
        {
            current = PrometheusText.Value(await fixture.Api.Http.GetStringAsync("/metrics"), series);
            if (current == value)
            {
                return;
            }

            await Task.Delay(250);
        }
        while (DateTimeOffset.UtcNow < deadline);

        Assert.Fail($"{series} stayed {current}, expected {value}");
    }
}
