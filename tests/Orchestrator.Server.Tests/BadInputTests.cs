using System.Net;
using System.Text.Json.Nodes;
using Azure.Data.Tables;
using Orchestrator.Server.Tests.Infrastructure;

namespace Orchestrator.Server.Tests;

/// <summary>Every bad request gets a problem document naming the field, and nothing is stored anywhere.</summary>
[Collection(EndToEnd.Name)]
public sealed class BadInputTests(ServerFixture fixture) : IClassFixture<ServerFixture>
{
    public static TheoryData<string, string, int, string> BadStarts => new()
    {
        { "malformed JSON", "{\"definition\": \"summarize-classify\", \"input\": {", 400, "body" },
        { "empty body", "", 400, "body" },
        { "body is not an object", "[1, 2, 3]", 400, "body" },
        { "unknown field", "{\"definition\": \"summarize-classify\", \"inputs\": {}}", 400, "inputs" },
        { "no definition", "{\"input\": {\"text\": \"x\"}}", 400, "definition" },
        { "unknown definition", "{\"definition\": \"sumarize-classify\", \"input\": {\"text\": \"x\"}}", 400, "definition" },
        { "unknown definition version", "{\"definition\": \"summarize-classify@99\", \"input\": {\"text\": \"x\"}}", 400, "definition" },
        { "missing required input", "{\"definition\": \"summarize-classify\", \"input\": {}}", 400, "input" },
        { "input of the wrong type", "{\"definition\": \"summarize-classify\", \"input\": {\"text\": 42}}", 400, "input.text" },
        { "input is not an object", "{\"definition\": \"summarize-classify\", \"input\": \"text\"}", 400, "input" },
        { "idempotency key not a string", "{\"definition\": \"summarize-classify\", \"input\": {\"text\": \"x\"}, \"idempotencyKey\": 7}", 400, "idempotencyKey" },
        { "definition with no steps", "{\"definition\": {\"name\": \"empty\", \"steps\": []}, \"input\": {}}", 400, "definition.steps" },
        { "duplicate step ids", "{\"definition\": {\"name\": \"dup\", \"steps\": [{\"id\": \"a\", \"type\": \"llm\", \"prompt\": \"x\"}, {\"id\": \"a\", \"type\": \"llm\", \"prompt\": \"y\"}]}}", 400, "definition.steps[1].id" },
        { "unknown step variable", "{\"definition\": {\"name\": \"typo\", \"steps\": [{\"id\": \"summarize\", \"type\": \"llm\", \"prompt\": \"x\"}, {\"id\": \"b\", \"type\": \"llm\", \"prompt\": \"{{ steps.sumarize.output }}\"}]}}", 400, "definition.steps[1].prompt" },
        { "reference to a later step", "{\"definition\": {\"name\": \"later\", \"steps\": [{\"id\": \"a\", \"type\": \"llm\", \"prompt\": \"{{ steps.b.output }}\"}, {\"id\": \"b\", \"type\": \"llm\", \"prompt\": \"y\"}]}}", 400, "definition.steps[0].prompt" },
        { "unknown step type", "{\"definition\": {\"name\": \"kind\", \"steps\": [{\"id\": \"a\", \"type\": \"sql\", \"prompt\": \"x\"}]}}", 400, "definition.steps[0].type" },
        { "step without prompt", "{\"definition\": {\"name\": \"noprompt\", \"steps\": [{\"id\": \"a\", \"type\": \"llm\"}]}}", 400, "definition.steps[0]" },
        { "unknown provider", "{\"definition\": {\"name\": \"prov\", \"steps\": [{\"id\": \"a\", \"type\": \"llm\", \"prompt\": \"x\", \"provider\": \"anthropic\"}]}}", 400, "definition.steps[0].provider" },
        { "reserved idempotency key", "{\"definition\": \"summarize-classify\", \"input\": {\"text\": \"x\"}, \"idempotencyKey\": \"retry:abc\"}", 400, "idempotencyKey" },
        { "template that does not parse", "{\"definition\": {\"name\": \"parse\", \"steps\": [{\"id\": \"a\", \"type\": \"llm\", \"prompt\": \"{{ input.text \"}]}}", 400, "definition.steps[0].prompt" },
    };

    [Theory]
    [MemberData(nameof(BadStarts))]
    public async Task A_bad_start_request_is_answered_with_a_problem_naming_the_field_and_stores_nothing(string why, string body, int expectedStatus, string expectedPath)
    {
        var before = await CountsAsync();

        var (status, problem, response) = await fixture.Api.PostRawAsync("/api/v1/workflows", body);

        Assert.True(expectedStatus == (int)status, $"{why}: {status} {problem}");
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        Assert.Equal(expectedStatus, problem!["status"]!.GetValue<int>());
        var paths = problem["errors"]!.AsArray().Select(e => e!["path"]!.GetValue<string>()).ToList();
        Assert.True(paths.Contains(expectedPath), $"{why}: expected an error at {expectedPath}, got {problem}");
        Assert.DoesNotContain("   at ", problem.ToJsonString(), StringComparison.Ordinal);
        Assert.Equal(before, await CountsAsync());
    }

    [Theory]
    [MemberData(nameof(Orchestrator.Core.Tests.Definitions.InvalidDefinitionCatalog.All), MemberType = typeof(Orchestrator.Core.Tests.Definitions.InvalidDefinitionCatalog))]
    public async Task An_invalid_inline_definition_is_answered_400_at_its_path_and_stores_nothing(string why, string definition, string path, string message)
    {
        var before = await CountsAsync();

        var (status, problem, response) = await fixture.Api.PostRawAsync("/api/v1/workflows", "{\"definition\": " + definition + ", \"input\": {}}");

        Assert.True(status == HttpStatusCode.BadRequest, $"{why}: {status} {problem}");
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        var expected = path.Length == 0 ? "definition" : "definition." + path;
        Assert.True(
            problem!["errors"]!.AsArray().Any(e => e!["path"]!.GetValue<string>() == expected && e["message"]!.GetValue<string>().Contains(message, StringComparison.Ordinal)),
            $"{why}: expected '{message}' at {expected}, got {problem}");
        Assert.Equal(before, await CountsAsync());
    }

    [Fact]
    public async Task A_typo_in_a_step_reference_is_reported_with_a_suggestion()
    {
        var (_, problem, _) = await fixture.Api.PostRawAsync("/api/v1/workflows",
            "{\"definition\": {\"name\": \"typo\", \"steps\": [{\"id\": \"summarize\", \"type\": \"llm\", \"prompt\": \"x\"}, {\"id\": \"b\", \"type\": \"llm\", \"prompt\": \"{{ steps.sumarize.output }}\"}]}}");

        Assert.Contains("definition.steps[1].prompt: unknown variable steps.sumarize (did you mean steps.summarize?)", problem!["detail"]!.GetValue<string>());
    }

    [Fact]
    public async Task A_body_over_the_size_limit_gets_413_and_stores_nothing()
    {
        var before = await CountsAsync();
        var huge = "{\"definition\": \"summarize-classify\", \"input\": {\"text\": \"" + new string('x', 2 * 1024 * 1024) + "\"}}";

        var (status, problem, _) = await fixture.Api.PostRawAsync("/api/v1/workflows", huge);

        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, status);
        Assert.Equal(413, problem!["status"]!.GetValue<int>());
        Assert.Equal(before, await CountsAsync());
    }

    [Theory]
    [InlineData("GET", "")]
    [InlineData("POST", "/cancel")]
    [InlineData("POST", "/retry")]
    public async Task An_unknown_workflow_id_gets_404(string method, string suffix)
    {
        var path = $"/api/v1/workflows/{Guid.NewGuid():N}{suffix}";
        var (status, problem, response) = method == "GET" ? await fixture.Api.GetAsync(path) : await fixture.Api.PostAsync(path, null);

        Assert.Equal(HttpStatusCode.NotFound, status);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        Assert.Equal(404, problem!["status"]!.GetValue<int>());
    }

    [Fact]
    public async Task An_unknown_instance_on_the_durable_status_route_gets_404()
    {
        var (status, _, _) = await fixture.Api.GetAsync($"/runtime/webhooks/durabletask/instances/{Guid.NewGuid():N}");
        Assert.Equal(HttpStatusCode.NotFound, status);
    }

    private async Task<(long Runs, long Steps, int Instances)> CountsAsync()
    {
        var runs = await fixture.ScalarAsync("SELECT count(*) FROM workflow_states");
        var steps = await fixture.ScalarAsync("SELECT count(*) FROM workflow_steps");
        var table = new TableClient(TestEnvironment.Azurite, fixture.TaskHub + "Instances");
        var instances = 0;
        try
        {
            await foreach (var _ in table.QueryAsync<TableEntity>(select: ["PartitionKey"]))
            {
                instances++;
            }
        }
        catch (Azure.RequestFailedException ex) when (ex.Status == 404)
        {
        }

        return (runs, steps, instances);
    }
}
