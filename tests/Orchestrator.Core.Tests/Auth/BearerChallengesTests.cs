using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using Orchestrator.Core.Auth;

namespace Orchestrator.Core.Tests.Auth;

/// <summary>Hosts that authorize by path (the Functions app's middleware) apply the same bearer rules as the Server, per route.</summary>
public sealed class BearerChallengesTests
{
    private const string AdminToken = "admin-token-for-functions-tests";
    private const string ApiKey = "api-key-for-functions-tests-1";

    private static readonly BearerTokens Tokens = new(Options.Create(new AuthOptions
    {
        AdminToken = AdminToken,
        ApiKeys = { ["ci"] = ApiKey },
    }));

    [Theory]
    [InlineData("/api/v1/workflows", null, 401)]
    [InlineData("/api/v1/workflows", "wrong-token-wrong-token", 401)]
    [InlineData("/api/v1/workflows", ApiKey, 200)]
    [InlineData("/api/v1/workflows", AdminToken, 200)]
    [InlineData("/api/admin/maintenance/enable", ApiKey, 403)]
    [InlineData("/api/admin/maintenance/enable", null, 401)]
    [InlineData("/api/admin/maintenance/enable", AdminToken, 200)]
    [InlineData("/api/health", null, 200)]
    [InlineData("/api/health/ready", null, 200)]
    [InlineData("/api/metrics", null, 200)]
    public async Task Each_route_asks_for_its_token(string path, string? token, int expected)
    {
        var http = Context(path, token);
        var policy = AuthPolicies.ForPath(path);
        var refusal = policy is null ? null : BearerChallenges.Authorize(http, policy, Tokens);
        if (refusal is not null)
        {
            await refusal.ExecuteAsync(http);
        }

        Assert.Equal(expected, refusal is null ? 200 : http.Response.StatusCode);
        if (expected == 401)
        {
            Assert.StartsWith("Bearer", http.Response.Headers.WWWAuthenticate.ToString(), StringComparison.Ordinal);
        }

        if (expected >= 400)
        {
            http.Response.Body.Position = 0;
            var problem = JsonNode.Parse(await new StreamReader(http.Response.Body).ReadToEndAsync())!;
            Assert.Contains(path.Contains("admin", StringComparison.Ordinal) ? "admin token" : "API key", problem["detail"]!.GetValue<string>(), StringComparison.Ordinal);
        }
    }

    [Fact]
    public void The_caller_is_named_by_the_key_it_used_never_by_its_value()
    {
        var http = Context("/api/v1/workflows", ApiKey);
        Assert.Null(BearerChallenges.Authorize(http, AuthPolicies.Api, Tokens));
        Assert.Equal("api-key:ci", AuthPolicies.ActorOf(http.User));
    }

    private static DefaultHttpContext Context(string path, string? token)
    {
        var http = new DefaultHttpContext { RequestServices = new ServiceCollection().AddLogging().AddProblemDetails().BuildServiceProvider() };
        http.Request.Path = path;
        if (token is not null)
        {
            http.Request.Headers.Authorization = "Bearer " + token;
        }

        http.Response.Body = new MemoryStream();
        return http;
    }
}
