using System.Net;
using System.Text.Json.Nodes;
using Orchestrator.Server.Tests.Infrastructure;

namespace Orchestrator.Server.Tests;

/// <summary><c>GET /api/v1/workflows</c>: filters, and keyset pages that neither skip nor repeat a run while runs arrive.</summary>
[Collection(EndToEnd.Name)]
public sealed class RunListTests(ServerFixture fixture) : IClassFixture<ServerFixture>
{
    [Fact]
    public async Task Pages_neither_skip_nor_repeat_a_run_while_new_runs_arrive()
    {
        var tag = Definitions.Tag();
        var name = "list-" + tag;
        var started = new List<string>();
        for (var i = 0; i < 7; i++)
        {
            started.Add(await fixture.Api.StartAsync(Definitions.Named(name, tag), new JsonObject { ["text"] = $"doc {i}" }));
        }

        var seen = new List<string>();
        string? cursor = null;
        var pages = 0;
        do
        {
            var (status, page, _) = await fixture.Api.GetAsync($"/api/v1/workflows?definition={name}&limit=3" + (cursor is null ? "" : "&cursor=" + Uri.EscapeDataString(cursor)));
            Assert.Equal(HttpStatusCode.OK, status);
            seen.AddRange(page!["items"]!.AsArray().Select(item => item!["id"]!.GetValue<string>()));
            cursor = page["nextCursor"]?.GetValue<string>();
            pages++;
            // New runs of the same definition arrive between pages; being newer, they belong before page one.
            await fixture.Api.StartAsync(Definitions.Named(name, tag), new JsonObject { ["text"] = $"late {pages}" });
        }
        while (cursor is not null);

        Assert.Equal(3, pages);
        Assert.Equal(seen.Count, seen.Distinct().Count());
        Assert.Equal(Enumerable.Reverse(started), seen);
    }

    [Fact]
    public async Task The_list_filters_by_status_definition_and_creation_time_newest_first_with_progress_and_error()
    {
        var tag = Definitions.Tag();
        var name = "filter-" + tag;
        var beforeAll = DateTimeOffset.UtcNow.AddSeconds(-1);
        var completed = await fixture.Api.StartAsync(Definitions.Named(name, tag), new JsonObject { ["text"] = "ok" });
        await fixture.Api.WaitForStatusAsync(completed, "Completed");
        fixture.Llm.Fail($"STEP1-{tag}", 400, "rejected for the list test");
        var failed = await fixture.Api.StartAsync(Definitions.Named(name, tag), new JsonObject { ["text"] = "bad" });
        await fixture.Api.WaitForStatusAsync(failed, "Failed");
        var middle = (await fixture.Api.GetRunAsync(failed))["createdAt"]!.GetValue<DateTimeOffset>();

        var all = await ListAsync($"definition={name}");
        Assert.Equal([failed, completed], all.Select(i => i["id"]!.GetValue<string>()));
        Assert.Equal($"{name}@1", all[1]["definition"]!.GetValue<string>());
        Assert.Equal(1, all[1]["progress"]!["completed"]!.GetValue<int>());
        Assert.Equal(1, all[1]["progress"]!["total"]!.GetValue<int>());
        Assert.NotNull(all[1]["lastCheckpoint"]);
        Assert.Contains("rejected for the list test", all[0]["error"]!.GetValue<string>(), StringComparison.Ordinal);

        Assert.Equal([failed], (await ListAsync($"definition={name}&status=Failed")).Select(i => i["id"]!.GetValue<string>()));
        Assert.Equal([failed, completed], (await ListAsync($"definition={name}&status=failed,Completed")).Select(i => i["id"]!.GetValue<string>()));
        Assert.Equal([failed], (await ListAsync($"definition={name}&createdAfter={Uri.EscapeDataString(middle.ToString("O"))}")).Select(i => i["id"]!.GetValue<string>()));
        Assert.Equal([completed], (await ListAsync($"definition={name}&createdBefore={Uri.EscapeDataString(middle.ToString("O"))}")).Select(i => i["id"]!.GetValue<string>()));
        Assert.Equal(2, (await ListAsync($"definition={name}&createdAfter={Uri.EscapeDataString(beforeAll.ToString("O"))}")).Count);
        Assert.Empty(await ListAsync($"definition={name}&status=Cancelled"));
    }

    [Theory]
    [InlineData("limit=-1", "limit")]
    [InlineData("limit=0", "limit")]
    [InlineData("limit=1000000000000", "limit")]
    [InlineData("limit=ten", "limit")]
    [InlineData("limit=1&limit=2", "limit")]
    [InlineData("cursor=not-a-cursor!", "cursor")]
    [InlineData("cursor=djE6MTIzOi4uLy4uL2V0Yw", "cursor")] // "v1:123:../../etc", well-formed base64url
    [InlineData("cursor=", "cursor")]
    [InlineData("status=Stuck", "status")]
    [InlineData("status=", "status")]
    [InlineData("createdAfter=yesterday", "createdAfter")]
    [InlineData("createdBefore=0001-01-01T00:00:00Z", "createdBefore")]
    [InlineData("sort=name", "sort")]
    public async Task An_absurd_query_value_is_answered_400_naming_the_parameter(string query, string parameter)
    {
        var (status, problem, response) = await fixture.Api.GetAsync("/api/v1/workflows?" + query);

        Assert.Equal(HttpStatusCode.BadRequest, status);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        Assert.Equal(parameter, problem!["errors"]![0]!["path"]!.GetValue<string>());
    }

    private async Task<List<JsonNode>> ListAsync(string query)
    {
        var (status, page, _) = await fixture.Api.GetAsync("/api/v1/workflows?" + query);
        Assert.True(status == HttpStatusCode.OK, $"list answered {status}: {page}");
        return page!["items"]!.AsArray().Select(i => i!).ToList();
    }
}
