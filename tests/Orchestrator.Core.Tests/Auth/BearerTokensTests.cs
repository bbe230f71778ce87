using Microsoft.Extensions.Options;
using Orchestrator.Core.Auth;

namespace Orchestrator.Core.Tests.Auth;

/// <summary>Which token is which caller, and which settings the product refuses to start with.</summary>
public sealed class BearerTokensTests
{
    private static BearerTokens Tokens(AuthOptions options) => new(Options.Create(options));

    private static readonly AuthOptions Configured = new()
    {
        AdminToken = "admin-0123456789abcdef",
        ApiKeys = { ["ci"] = "ci-key-0123456789abcdef", ["batch"] = "batch-key-0123456789abc" },
    };

    [Fact]
    public void The_admin_token_is_an_administrator_who_may_also_use_the_api()
    {
        var user = Tokens(Configured).Authenticate("admin-0123456789abcdef")!;

        Assert.Equal("admin-token", AuthPolicies.ActorOf(user));
        Assert.True(AuthPolicies.Allows(AuthPolicies.Admin, user));
        Assert.True(AuthPolicies.Allows(AuthPolicies.Api, user));
    }

    [Fact]
    public void An_api_key_is_named_by_its_key_name_and_may_not_administer()
    {
        var user = Tokens(Configured).Authenticate("batch-key-0123456789abc")!;

        Assert.Equal("api-key:batch", AuthPolicies.ActorOf(user));
        Assert.True(AuthPolicies.Allows(AuthPolicies.Api, user));
        Assert.False(AuthPolicies.Allows(AuthPolicies.Admin, user));
    }

    [Theory]
    [InlineData("admin-0123456789abcde")]   // one character short
    [InlineData("admin-0123456789abcdeF")]  // one character different
    [InlineData("ADMIN-0123456789ABCDEF")]  // case matters
    [InlineData("")]
    public void A_near_miss_matches_nothing(string token) => Assert.Null(Tokens(Configured).Authenticate(token));

    [Theory]
    [InlineData("Bearer abc", "abc")]
    [InlineData("bearer  abc ", "abc")]
    [InlineData("Basic YWJj", null)]
    [InlineData("Bearer ", null)]
    [InlineData(null, null)]
    public void Only_a_bearer_header_carries_a_token(string? header, string? token) => Assert.Equal(token, BearerTokens.FromHeader(header));

    [Fact]
    public void No_token_at_all_is_refused_with_the_keys_to_set()
    {
        var problem = Assert.Single(new AuthOptions().Problems());
        Assert.Contains("Auth__AdminToken", problem, StringComparison.Ordinal);
        Assert.Contains("Auth__Disabled", problem, StringComparison.Ordinal);
        Assert.Empty(new AuthOptions { Disabled = true }.Problems());
    }

    [Fact]
    public void An_empty_api_key_is_an_unset_one_it_opens_nothing_and_does_not_count_as_a_token()
    {
        var options = new AuthOptions { ApiKeys = { ["default"] = "" } };

        var problem = Assert.Single(options.Problems());
        Assert.Contains("no token is configured", problem, StringComparison.Ordinal);
        Assert.Empty(new AuthOptions { AdminToken = "admin-0123456789abcdef", ApiKeys = { ["default"] = "" } }.Problems());
        Assert.Null(Tokens(new AuthOptions { AdminToken = "admin-0123456789abcdef", ApiKeys = { ["default"] = "" } }).Authenticate(""));
    }

    [Fact]
    public void Short_tokens_bad_key_names_and_an_api_key_equal_to_the_admin_token_are_each_named()
    {
        var problems = new AuthOptions
        {
            AdminToken = "changeme",
            ApiKeys = { ["bad name!"] = "x-0123456789abcdef", ["short"] = "tiny", ["same"] = "changeme" },
        }.Problems().ToList();

        Assert.Contains(problems, p => p.StartsWith("Auth:AdminToken", StringComparison.Ordinal));
        Assert.Contains(problems, p => p.StartsWith("Auth:ApiKeys:bad name!", StringComparison.Ordinal));
        Assert.Contains(problems, p => p.StartsWith("Auth:ApiKeys:short", StringComparison.Ordinal));
        Assert.Contains(problems, p => p.Contains("equals the admin token", StringComparison.Ordinal));
    }

    [Theory]
    [InlineData("/health", null)]
    [InlineData("/api/health/ready", null)]
    [InlineData("/metrics", null)]
    [InlineData("/api/metrics", null)]
    [InlineData("/admin/maintenance/enable", AuthPolicies.Admin)]
    [InlineData("/api/admin/circuit-breaker/reset", AuthPolicies.Admin)]
    [InlineData("/api/v1/workflows", AuthPolicies.Api)]
    [InlineData("/api/v1/incidents", AuthPolicies.Api)]
    [InlineData("/api/v1/incidents/0b7e4c1a-8f0e-4a51-9f4e-0c1d2e3f4a5b", AuthPolicies.Api)]
    [InlineData("/api/v1/incidents/0b7e4c1a-8f0e-4a51-9f4e-0c1d2e3f4a5b/report", AuthPolicies.Api)]
    [InlineData("/api/v1/incidents/0b7e4c1a-8f0e-4a51-9f4e-0c1d2e3f4a5b/acknowledge", AuthPolicies.Admin)]
    [InlineData("/api/v1/incidents/not-a-uuid/Resolve/", AuthPolicies.Admin)]
    [InlineData("/api/healthz", AuthPolicies.Api)]
    [InlineData("/api/administrator", AuthPolicies.Api)]
    public void Each_path_has_its_policy(string path, string? policy) => Assert.Equal(policy, AuthPolicies.ForPath(path));
}
