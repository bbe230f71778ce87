using System.Net;
using System.Text.Encodings.Web;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Orchestrator.Core.Auth;

/// <summary>
/// ASP.NET Core authentication for <c>Authorization: Bearer</c> tokens; challenges and refusals are problem
/// documents that say which token the route needs.
/// </summary>
public sealed class BearerAuthenticationHandler(
    IOptionsMonitor<AuthenticationSchemeOptions> options,
    ILoggerFactory loggerFactory,
    UrlEncoder encoder,
    BearerTokens tokens) : AuthenticationHandler<AuthenticationSchemeOptions>(options, loggerFactory, encoder)
{
    protected override Task<AuthenticateResult> HandleAuthenticateAsync()
    {
        if (tokens.Disabled)
        {
            return Task.FromResult(IsLoopback(Context)
                ? AuthenticateResult.Success(new AuthenticationTicket(BearerTokens.LocalDevelopment(), Scheme.Name))
                : AuthenticateResult.Fail("authentication is switched off, which is allowed for loopback connections only"));
        }

        var token = BearerTokens.FromHeader(Request.Headers.Authorization);
        if (token is null)
        {
            return Task.FromResult(AuthenticateResult.NoResult());
        }

        var principal = tokens.Authenticate(token);
        if (principal is null)
        {
            Log.TokenRejected(Logger, Request.Method, Request.Path.Value ?? string.Empty, Context.Connection.RemoteIpAddress?.ToString());
            return Task.FromResult(AuthenticateResult.Fail("the bearer token matches no configured token"));
        }

        return Task.FromResult(AuthenticateResult.Success(new AuthenticationTicket(principal, Scheme.Name)));
    }

    protected override Task HandleChallengeAsync(AuthenticationProperties properties) =>
        BearerChallenges.Unauthorized(Context, PolicyOf(Context)).ExecuteAsync(Context);

    protected override Task HandleForbiddenAsync(AuthenticationProperties properties) =>
        BearerChallenges.Forbidden(PolicyOf(Context)).ExecuteAsync(Context);

    private static string PolicyOf(HttpContext context) =>
        context.GetEndpoint()?.Metadata.GetOrderedMetadata<IAuthorizeData>().Select(a => a.Policy).LastOrDefault(p => p is not null) ?? AuthPolicies.Api;

    /// <summary>A connection from this machine (or an in-process test server, which has no remote address).</summary>
    public static bool IsLoopback(HttpContext context) =>
        context.Connection.RemoteIpAddress is not { } remote || IPAddress.IsLoopback(remote);
}
