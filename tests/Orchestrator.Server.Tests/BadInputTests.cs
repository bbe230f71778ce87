using System.Net;
using System.Text;
using System.Text.Json.Nodes;
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

    public static TheoryData<string, string> BodyRoutes => new()
    {
        { "POST", "/api/v1/workflows" },
        { "POST", $"/api/v1/workflows/{UnknownId}/cancel" },
        { "POST", $"/api/v1/workflows/{UnknownId}/retry" },
        { "POST", $"/api/v1/workflows/{UnknownId}/events/approve" },
        { "POST", $"/runtime/webhooks/durabletask/instances/{UnknownId}/raiseEvent/approve" },
    };

    [Theory]
    [MemberData(nameof(BodyRoutes))]
    public async Task A_body_declared_as_something_other_than_json_gets_415_on_every_route_that_takes_one(string method, string route)
    {
        var before = await CountsAsync();

        foreach (var contentType in new[] { "application/x-www-form-urlencoded", "text/plain", "application/json; charset=utf-16" })
        {
            var response = await RawAsync(method, route, contentType, "{\"approved\": true}"u8.ToArray());

            AssertProblem(response, 415);
        }

        Assert.Equal(before, await CountsAsync());
    }

    public static TheoryData<string, string, string, string> WrongKinds => new()
    {
        { "/api/v1/workflows", "[]", "body", "an array" },
        { "/api/v1/workflows", "\"summarize-classify\"", "body", "a string" },
        { $"/api/v1/workflows/{UnknownId}/cancel", "[1, 2]", "body", "an array" },
        { $"/api/v1/workflows/{UnknownId}/cancel", "\"stop\"", "body", "a string" },
        { $"/api/v1/workflows/{UnknownId}/cancel", "{\"reason\": 42}", "reason", "a number" },
        { $"/api/v1/workflows/{UnknownId}/cancel", "{\"reason\": \"ok\", \"force\": true}", "force", "unknown field" },
        { $"/api/v1/workflows/{UnknownId}/retry", "[]", "body", "an array" },
        { $"/api/v1/workflows/{UnknownId}/retry", "{\"input\": {}}", "input", "unknown field" },
        { $"/runtime/webhooks/durabletask/instances/{UnknownId}/raiseEvent/approve", "\"yes\"", "body", "a string" },
        { $"/runtime/webhooks/durabletask/instances/{UnknownId}/raiseEvent/approve", "{\"approved\": \"yes\"}", "approved", "approval decision" },
        { $"/runtime/webhooks/durabletask/instances/{UnknownId}/raiseEvent/approve", "{\"approved\": true, \"comment\": 7}", "comment", "a number" },
    };

    [Theory]
    [MemberData(nameof(WrongKinds))]
    public async Task Json_of_the_wrong_kind_gets_400_naming_the_field(string route, string body, string field, string message)
    {
        var before = await CountsAsync();

        var response = await RawAsync("POST", route, "application/json", Encoding.UTF8.GetBytes(body));

        var problem = AssertProblem(response, 400);
        var error = Assert.Single(problem["errors"]!.AsArray());
        Assert.Equal(field, error!["path"]!.GetValue<string>());
        Assert.Contains(message, error["message"]!.GetValue<string>(), StringComparison.Ordinal);
        Assert.Equal(before, await CountsAsync());
    }

    [Fact]
    public async Task Cancel_with_a_json_array_body_gets_400_not_500()
    {
        var (status, problem, response) = await fixture.Api.PostRawAsync($"/api/v1/workflows/{UnknownId}/cancel", "[\"reason\"]");

        Assert.Equal(HttpStatusCode.BadRequest, status);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        Assert.Equal("body", problem!["errors"]![0]!["path"]!.GetValue<string>());
    }

    [Fact]
    public async Task Cancel_without_a_body_or_content_type_as_the_runbook_sends_it_reaches_the_run()
    {
        // curl -X POST .../cancel: no body, no Content-Type. The unknown id proves the request got past body reading.
        var response = await RawAsync("POST", $"/api/v1/workflows/{UnknownId}/cancel", null, null);

        Assert.Equal(UnknownId, AssertProblem(response, 404)["id"]!.GetValue<string>());
    }

    [Theory]
    [InlineData("/api/v1/workflows")]
    [InlineData("/api/v1/workflows/" + UnknownId + "/cancel")]
    [InlineData("/api/v1/workflows/" + UnknownId + "/events/approve")]
    public async Task Invalid_utf8_gets_400(string route)
    {
        var before = await CountsAsync();
        byte[] body = [.. "{\"reason\": \""u8, 0xC3, 0x28, 0xFF, .. "\"}"u8];

        var response = await RawAsync("POST", route, "application/json", body);

        var problem = AssertProblem(response, 400);
        Assert.Contains("UTF-8", problem["detail"]!.GetValue<string>(), StringComparison.Ordinal);
        Assert.Equal(before, await CountsAsync());
    }

    [Theory]
    [InlineData("DELETE", "/api/v1/workflows", "GET, POST")]
    [InlineData("PUT", "/api/v1/workflows", "GET, POST")]
    [InlineData("POST", "/admin/maintenance", "GET")]
    [InlineData("GET", "/admin/maintenance/enable", "POST")]
    [InlineData("PUT", "/api/v1/workflows/" + UnknownId, "GET")]
    [InlineData("GET", "/api/v1/workflows/" + UnknownId + "/cancel", "POST")]
    [InlineData("PATCH", "/api/v1/workflows/" + UnknownId + "/events/approve", "POST")]
    [InlineData("POST", "/api/v1/definitions", "GET")]
    [InlineData("POST", "/runtime/webhooks/durabletask/instances/" + UnknownId, "DELETE, GET")]
    public async Task A_known_route_asked_with_another_method_gets_a_405_problem_with_Allow(string method, string route, string allow)
    {
        var response = await RawAsync(method, route, null, null);

        AssertProblem(response, 405);
        Assert.Equal(allow, string.Join(", ", response.Headers["allow"].Split(',', StringSplitOptions.TrimEntries).Order(StringComparer.Ordinal)));
    }

    [Theory]
    [InlineData("GET", "/")]
    [InlineData("GET", "/api/v2/workflows")]
    [InlineData("POST", "/api/v1/workflows/" + UnknownId + "/resume")]
    [InlineData("GET", "/api/v1/workflows/" + UnknownId + "/steps/1")]
    [InlineData("DELETE", "/nope")]
    public async Task An_unknown_route_gets_a_404_problem(string method, string route)
    {
        var response = await RawAsync(method, route, null, null);

        Assert.Equal("There is no such route.", AssertProblem(response, 404)["title"]!.GetValue<string>());
    }

    [Theory]
    [InlineData("GET", "/api/v1/workflows/..%2F..%2Fetc%2Fpasswd")]
    [InlineData("POST", "/api/v1/workflows/..%2Fx/cancel")]
    [InlineData("GET", "/api/v1/workflows/%ZZ%")]
    [InlineData("GET", "/api/v1/workflows/a%0Ab")]
    [InlineData("POST", "/api/v1/workflows/%1B%5B31m/cancel")]
    [InlineData("GET", "/api/v1/workflows/%C3%BC")]
    [InlineData("GET", "/runtime/webhooks/durabletask/instances/a%20b")]
    [InlineData("DELETE", "/runtime/webhooks/durabletask/instances/x%27%3B%20DROP%20TABLE%20workflow_states")]
    public async Task A_hostile_run_id_gets_400_naming_it_before_any_lookup(string method, string route)
    {
        var before = await CountsAsync();

        var response = await RawAsync(method, route, null, null);

        Assert.Equal("id", AssertProblem(response, 400)["errors"]![0]!["path"]!.GetValue<string>());
        Assert.Equal(before, await CountsAsync());
    }

    [Theory]
    [InlineData("/api/v1/workflows/../../cancel")]
    [InlineData("/api/v1/workflows/%2E%2E/retry")]
    public async Task Dot_segments_are_resolved_by_the_server_and_never_reach_a_route_as_an_id(string target)
    {
        var response = await RawAsync("POST", target, null, null);

        AssertProblem(response, 404);
    }

    [Fact]
    public async Task A_10_KB_id_gets_400_naming_it()
    {
        var response = await RawAsync("GET", "/api/v1/workflows/" + new string('a', 10 * 1024), null, null);

        Assert.Equal("id", AssertProblem(response, 400)["errors"]![0]!["path"]!.GetValue<string>());
    }

    [Fact]
    public async Task Hostile_event_names_and_definition_references_get_400_naming_them()
    {
        var name = AssertProblem(await RawAsync("POST", $"/api/v1/workflows/{UnknownId}/events/a%0Ab", "application/json", "{}"u8.ToArray()), 400);
        var eventName = AssertProblem(await RawAsync("POST", $"/runtime/webhooks/durabletask/instances/{UnknownId}/raiseEvent/" + new string('e', 100), null, null), 400);
        var definition = AssertProblem(await RawAsync("GET", "/api/v1/definitions/" + new string('d', 5000), null, null), 400);

        Assert.Equal("name", name["errors"]![0]!["path"]!.GetValue<string>());
        Assert.Equal("eventName", eventName["errors"]![0]!["path"]!.GetValue<string>());
        Assert.Equal("name", definition["errors"]![0]!["path"]!.GetValue<string>());
    }

    [Theory]
    [InlineData('\u0001')]
    [InlineData('\t')]
    [InlineData('\u001b')]
    [InlineData('\u007f')]
    public async Task A_raw_control_character_in_an_id_gets_400_naming_it(char control)
    {
        var before = await CountsAsync();

        var response = await RawAsync("POST", $"/api/v1/workflows/a{control}b/cancel", null, null);

        Assert.Equal("id", AssertProblem(response, 400)["errors"]![0]!["path"]!.GetValue<string>());
        Assert.Equal(before, await CountsAsync());
    }

    [Theory]
    [InlineData("/api/v1/workflows/a\u0000b")]
    [InlineData("/api/v1/workflows/a%00b")]
    [InlineData("/api/v1/workflows/a\nb")]
    [InlineData("/api/v1/workflows/a b")]
    public async Task A_request_line_that_breaks_http_is_refused_by_kestrel_with_400_before_any_route(string target)
    {
        var before = await CountsAsync();

        var response = await RawAsync("GET", target, null, null);

        // Kestrel answers these itself: no route runs, so there is no problem document, only an empty 400.
        Assert.Equal(400, response.Status);
        Assert.Empty(response.Body);
        Assert.Equal(before, await CountsAsync());
    }

    [Theory]
    [InlineData("/runtime/webhooks/durabletask/instances/" + UnknownId + "?showInput=garbage", "showInput")]
    [InlineData("/runtime/webhooks/durabletask/instances/" + UnknownId + "/terminate?reason=a%00b", "reason")]
    [InlineData("/runtime/webhooks/durabletask/instances/" + UnknownId + "/suspend?reason=a%1Bb", "reason")]
    public async Task A_bad_query_value_gets_400_naming_it(string target, string field)
    {
        var method = target.Contains("?showInput", StringComparison.Ordinal) ? "GET" : "POST";

        var response = await RawAsync(method, target, null, null);

        Assert.Equal(field, AssertProblem(response, 400)["errors"]![0]!["path"]!.GetValue<string>());
    }

    [Fact]
    public async Task A_start_whose_input_holds_U0000_gets_400_at_that_field_and_stores_nothing()
    {
        var before = await CountsAsync();

        var (status, problem, _) = await fixture.Api.PostRawAsync("/api/v1/workflows", "{\"definition\": \"summarize-classify\", \"input\": {\"text\": \"a\\u0000b\"}}");

        Assert.Equal(HttpStatusCode.BadRequest, status);
        Assert.Equal("input.text", problem!["errors"]![0]!["path"]!.GetValue<string>());
        Assert.Equal(before, await CountsAsync());
    }

    [Theory]
    [InlineData("{\"definition\": \"summarize-classify\", \"definition\": \"x\", \"input\": {\"text\": \"x\"}}")]
    [InlineData("{\"definition\": \"summarize-classify\", \"input\": {\"text\": \"\\ud800\"}}")]
    public async Task A_start_body_that_cannot_be_read_unambiguously_gets_400(string body)
    {
        var before = await CountsAsync();

        var (status, problem, _) = await fixture.Api.PostRawAsync("/api/v1/workflows", body);

        Assert.True(status == HttpStatusCode.BadRequest, $"{status} {problem}");
        Assert.Equal("body", problem!["errors"]![0]!["path"]!.GetValue<string>());
        Assert.Equal(before, await CountsAsync());
    }

    private const string UnknownId = "0123456789abcdef0123456789abcdef";

    private static JsonNode AssertProblem(RawHttp.Response response, int status)
    {
        Assert.True(status == response.Status, $"expected {status}, got {response.Status}: {response.Text}");
        Assert.Equal("application/problem+json", response.ContentType?.Split(';')[0]);
        var problem = JsonNode.Parse(response.Text)!;
        Assert.Equal(status, problem["status"]!.GetValue<int>());
        Assert.DoesNotContain("   at ", response.Text, StringComparison.Ordinal);
        return problem;
    }

    private Task<RawHttp.Response> RawAsync(string method, string target, string? contentType, byte[]? body) =>
        RawHttp.SendAsync(fixture.Server.BaseAddress, method, target, contentType, body, chunked: false, TimeSpan.FromSeconds(30), "Bearer " + TestEnvironment.ApiKey);

    private Task<StoredCounts> CountsAsync() => fixture.StoredCountsAsync();
}
