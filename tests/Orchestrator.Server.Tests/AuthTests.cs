using System.Net;
using System.Net.Http.Headers;
using System.Text.Json.Nodes;
using Orchestrator.Server.Tests.Infrastructure;

namespace Orchestrator.Server.Tests;

/// <summary>Bearer tokens guard every route but /health* and /metrics; the Server will not start unprotected.</summary>
[Collection(EndToEnd.Name)]
public sealed class AuthTests(ServerFixture fixture) : IClassFixture<ServerFixture>
{
    private const string SomeId = "0123456789abcdef0123456789abcdef";

    /// <summary>Every protected route, with the token it needs (true: the admin token only).</summary>
    public static TheoryData<string, string, bool> ProtectedRoutes => new()
    {
        { "POST", "/api/v1/workflows", false },
        { "GET", "/api/v1/workflows", false },
        { "GET", $"/api/v1/workflows/{SomeId}", false },
        { "POST", $"/api/v1/workflows/{SomeId}/cancel", false },
        { "POST", $"/api/v1/workflows/{SomeId}/retry", false },
        { "POST", $"/api/v1/workflows/{SomeId}/events/approve", false },
        { "GET", "/api/v1/definitions", false },
        { "GET", "/api/v1/definitions/summarize-classify", false },
        { "GET", $"/runtime/webhooks/durabletask/instances/{SomeId}", false },
        { "POST", $"/runtime/webhooks/durabletask/instances/{SomeId}/terminate", false },
        { "POST", $"/runtime/webhooks/durabletask/instances/{SomeId}/raiseEvent/approve", false },
        { "POST", $"/runtime/webhooks/durabletask/instances/{SomeId}/suspend", false },
        { "POST", $"/runtime/webhooks/durabletask/instances/{SomeId}/resume", false },
        { "DELETE", $"/runtime/webhooks/durabletask/instances/{SomeId}", false },
        { "GET", "/runtime/webhooks/durabletask/instances", false },
        { "DELETE", "/runtime/webhooks/durabletask/instances?createdTimeFrom=2020-01-01T00:00:00Z", true },
        { "POST", "/admin/circuit-breaker/reset", true },
        { "POST", "/admin/maintenance/enable", true },
        { "POST", "/admin/maintenance/disable", true },
        { "GET", "/admin/maintenance", true },
        { "GET", "/admin/audit", true },
        { "POST", "/api/admin/maintenance/disable", true },
    };

    [Theory]
    [MemberData(nameof(ProtectedRoutes))]
    public async Task A_protected_route_without_a_token_answers_401_with_a_bearer_challenge_and_changes_nothing(string method, string path, bool admin)
    {
        var before = await fixture.StoredCountsAsync();
        using var response = await SendAsync(method, path, token: null);

        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        Assert.Equal("Bearer", Assert.Single(response.Headers.WwwAuthenticate).Scheme);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        var problem = JsonNode.Parse(await response.Content.ReadAsStringAsync())!;
        Assert.Contains(admin ? "admin token" : "API key", problem["detail"]!.GetValue<string>(), StringComparison.Ordinal);
        Assert.Equal(before, await fixture.StoredCountsAsync());
    }

    [Theory]
    [MemberData(nameof(ProtectedRoutes))]
    public async Task A_protected_route_with_a_wrong_token_answers_401_invalid_token(string method, string path, bool admin)
    {
        _ = admin;
        using var response = await SendAsync(method, path, token: "not-a-configured-token-at-all");

        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        Assert.Contains("invalid_token", response.Headers.WwwAuthenticate.ToString(), StringComparison.Ordinal);
    }

    [Theory]
    [MemberData(nameof(ProtectedRoutes))]
    public async Task An_api_key_is_refused_with_403_on_admin_routes_and_accepted_elsewhere(string method, string path, bool admin)
    {
        var before = await fixture.StoredCountsAsync();
        using var response = await SendAsync(method, path, TestEnvironment.ApiKey);

        if (admin)
        {
            Assert.Equal(HttpStatusCode.Forbidden, response.StatusCode);
            var problem = JsonNode.Parse(await response.Content.ReadAsStringAsync())!;
            Assert.Contains("admin token", problem["detail"]!.GetValue<string>(), StringComparison.Ordinal);
            Assert.Equal(before, await fixture.StoredCountsAsync());
        }
        else
        {
            Assert.NotEqual(HttpStatusCode.Unauthorized, response.StatusCode);
            Assert.NotEqual(HttpStatusCode.Forbidden, response.StatusCode);
        }
    }

    [Fact]
    public async Task The_admin_token_opens_every_route()
    {
        foreach (var (method, path) in new[] { ("GET", "/api/v1/workflows"), ("GET", "/admin/maintenance"), ("GET", "/api/v1/definitions") })
        {
            using var response = await SendAsync(method, path, TestEnvironment.AdminToken);
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        }
    }

    [Theory]
    [InlineData("/health")]
    [InlineData("/health/live")]
    [InlineData("/health/ready")]
    [InlineData("/metrics")]
    [InlineData("/api/health")]
    [InlineData("/api/metrics")]
    public async Task Health_and_metrics_are_anonymous_and_reveal_no_secret(string path)
    {
        using var response = await SendAsync("GET", path, token: null);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var body = await response.Content.ReadAsStringAsync();
        foreach (var secret in new[] { TestEnvironment.AdminToken, TestEnvironment.ApiKey, "Password", "password=postgres", "test-key" })
        {
            Assert.DoesNotContain(secret, body, StringComparison.OrdinalIgnoreCase);
        }
    }

    [Fact]
    public async Task The_audit_log_names_the_token_that_acted_never_its_value()
    {
        using var admin = new OrchestratorApi(fixture.Server.BaseAddress, TestEnvironment.AdminToken);
        var (status, _, _) = await admin.PostAsync("/admin/maintenance/disable", null);
        Assert.Equal(HttpStatusCode.OK, status);

        var audit = await fixture.RowsAsync("SELECT actor, action, detail::text AS detail FROM admin_audit ORDER BY id DESC LIMIT 1");
        Assert.Equal("admin-token", audit[0]["actor"]);
        Assert.Equal("maintenance.disable", audit[0]["action"]);
        Assert.DoesNotContain(TestEnvironment.AdminToken, (string?)audit[0]["detail"] ?? "", StringComparison.Ordinal);
        Assert.Contains(fixture.Server.Output.Split('\n'), line => line.Contains("ADMIN ACTION maintenance.disable", StringComparison.Ordinal) && line.Contains("admin-token", StringComparison.Ordinal));
        Assert.DoesNotContain(TestEnvironment.AdminToken, fixture.Server.Output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task The_server_refuses_to_start_with_auth_on_and_no_token()
    {
        await using var server = new ServerProcess(fixture.Database, fixture.TaskHub + "x", fixture.Llm.BaseUrl, new Dictionary<string, string?>
        {
            ["Auth__AdminToken"] = null,
            ["Auth__ApiKeys__" + TestEnvironment.ApiKeyName] = null,
            ["ADMIN_TOKEN"] = null,
        });

        await server.AssertRefusedAsync("Auth__AdminToken");
    }

    [Fact]
    public async Task An_unresolved_Key_Vault_reference_is_never_accepted_as_a_token()
    {
        const string reference = "@Microsoft.KeyVault(VaultName=kv-orchestrator;SecretName=admin-token)";
        await using var server = new ServerProcess(fixture.Database, fixture.TaskHub + "k", fixture.Llm.BaseUrl, new Dictionary<string, string?>
        {
            ["Auth__AdminToken"] = reference,
        });
        await server.StartAsync();
        using var api = new OrchestratorApi(server.BaseAddress, reference);

        var (status, _, _) = await api.GetAsync("/admin/maintenance");

        Assert.Equal(HttpStatusCode.Unauthorized, status);
        Assert.Contains("The Key Vault reference in setting Auth:AdminToken did not resolve", server.Output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task With_only_unresolved_Key_Vault_references_for_tokens_the_server_refuses_to_start()
    {
        await using var server = new ServerProcess(fixture.Database, fixture.TaskHub + "r", fixture.Llm.BaseUrl, new Dictionary<string, string?>
        {
            ["Auth__AdminToken"] = "@Microsoft.KeyVault(VaultName=kv-orchestrator;SecretName=admin-token)",
            ["Auth__ApiKeys__" + TestEnvironment.ApiKeyName] = "@Microsoft.KeyVault(VaultName=kv-orchestrator;SecretName=api-key-default)",
            ["ADMIN_TOKEN"] = null,
        });

        await server.AssertRefusedAsync("Auth__AdminToken");
    }

    [Fact]
    public async Task The_runbook_admin_token_variable_is_the_admin_token()
    {
        await using var server = new ServerProcess(fixture.Database, fixture.TaskHub + "y", fixture.Llm.BaseUrl, new Dictionary<string, string?>
        {
            ["Auth__AdminToken"] = null,
            ["ADMIN_TOKEN"] = "runbook-admin-token-0123456789",
        });
        await server.StartAsync();
        using var api = new OrchestratorApi(server.BaseAddress, "runbook-admin-token-0123456789");

        var (status, _, _) = await api.GetAsync("/admin/maintenance");

        Assert.Equal(HttpStatusCode.OK, status);
    }

    [Fact]
    public async Task With_auth_disabled_the_server_starts_on_loopback_says_so_loudly_and_asks_for_no_token()
    {
        await using var server = new ServerProcess(fixture.Database, fixture.TaskHub + "z", fixture.Llm.BaseUrl, new Dictionary<string, string?>
        {
            ["Auth__AdminToken"] = null,
            ["Auth__ApiKeys__" + TestEnvironment.ApiKeyName] = null,
            ["Auth__Disabled"] = "true",
        });
        await server.StartAsync();
        using var api = new OrchestratorApi(server.BaseAddress, token: null);

        var (status, _, _) = await api.GetAsync("/admin/maintenance");

        Assert.Equal(HttpStatusCode.OK, status);
        Assert.Contains("AUTHENTICATION IS SWITCHED OFF", server.Output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task With_auth_disabled_the_server_refuses_to_listen_beyond_loopback()
    {
        var port = new ServerProcess(fixture.Database, "unused", fixture.Llm.BaseUrl).Port;
        await using var server = new ServerProcess(fixture.Database, fixture.TaskHub + "w", fixture.Llm.BaseUrl, new Dictionary<string, string?>
        {
            ["Auth__AdminToken"] = null,
            ["Auth__ApiKeys__" + TestEnvironment.ApiKeyName] = null,
            ["Auth__Disabled"] = "true",
            ["ASPNETCORE_URLS"] = $"http://0.0.0.0:{port}",
        });

        await server.AssertRefusedAsync("loopback");
    }

    private async Task<HttpResponseMessage> SendAsync(string method, string path, string? token)
    {
        using var request = new HttpRequestMessage(new HttpMethod(method), path);
        if (token is not null)
        {
            request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
        }

        if (method == "POST")
        {
            request.Content = new StringContent("{}", System.Text.Encoding.UTF8, "application/json");
        }

        using var http = new HttpClient { BaseAddress = fixture.Server.BaseAddress, Timeout = TimeSpan.FromSeconds(30) };
        return await http.SendAsync(request);
    }
}
