using Microsoft.AspNetCore.Http;
using Orchestrator.Core.Api;

namespace Orchestrator.Core.Auth;

/// <summary>
/// The answers to a request without the right token, the same from the Server's authentication handler and the
/// Functions app's middleware: <c>401</c> with a <c>WWW-Authenticate: Bearer</c> challenge, or <c>403</c>, each with a
/// problem body saying which token the route needs.
/// </summary>
public static class BearerChallenges
{
    private const string Realm = "Bearer realm=\"llm-orchestrator\"";

    public static IResult Unauthorized(HttpContext http, string policy)
    {
        var presented = BearerTokens.FromHeader(http.Request.Headers.Authorization) is not null;
        http.Response.Headers.WWWAuthenticate = presented ? Realm + ", error=\"invalid_token\"" : Realm;
        return Problems.Unauthorized(AuthPolicies.Needed(policy), presented);
    }

    public static IResult Forbidden(string policy) => Problems.Forbidden(AuthPolicies.Needed(policy));

    /// <summary>
    /// For hosts that authorize by path: null when the request may go on (and <see cref="HttpContext.User"/> is set),
    /// else the answer to give.
    /// </summary>
    public static IResult? Authorize(HttpContext http, string policy, BearerTokens tokens)
    {
        if (tokens.Disabled)
        {
            http.User = BearerTokens.LocalDevelopment();
            return null;
        }

        var user = BearerTokens.FromHeader(http.Request.Headers.Authorization) is { } token ? tokens.Authenticate(token) : null;
        if (user is null)
        {
            return Unauthorized(http, policy);
        }

        if (!AuthPolicies.Allows(policy, user))
        {
            return Forbidden(policy);
        }

        http.User = user;
        return null;
    }
}
