using Microsoft.AspNetCore.Http;
using Microsoft.Azure.Functions.Worker;
using Microsoft.Azure.Functions.Worker.Middleware;
using Orchestrator.Core.Api;
using Orchestrator.Core.Auth;

namespace Orchestrator.Functions.Auth;

/// <summary>
/// The same bearer check as the Server, behind the Functions host's own function keys: a request without the right
/// token never reaches the function. Non-HTTP invocations (orchestrations, activities, timers) pass through.
/// </summary>
public sealed class BearerAuthMiddleware(BearerTokens tokens) : IFunctionsWorkerMiddleware
{
    public async Task Invoke(FunctionContext context, FunctionExecutionDelegate next)
    {
        if (context.GetHttpContext() is not { } http || AuthPolicies.ForPath(http.Request.Path.Value ?? "/") is not { } policy)
        {
            await next(context);
            return;
        }

        var refusal = Authorize(http, policy, tokens);
        if (refusal is not null)
        {
            await refusal.ExecuteAsync(http);
            return;
        }

        await next(context);
    }

    /// <summary>Null when the request may go on (and <see cref="HttpContext.User"/> is set), else the problem to answer.</summary>
    public static IResult? Authorize(HttpContext http, string policy, BearerTokens tokens)
    {
        if (tokens.Disabled)
        {
            http.User = BearerTokens.LocalDevelopment();
            return null;
        }

        var token = BearerTokens.FromHeader(http.Request.Headers.Authorization);
        var user = token is null ? null : tokens.Authenticate(token);
        if (user is null)
        {
            http.Response.Headers.WWWAuthenticate = token is null ? "Bearer realm=\"llm-orchestrator\"" : "Bearer realm=\"llm-orchestrator\", error=\"invalid_token\"";
            return Problems.Unauthorized(AuthPolicies.Needed(policy), token is not null);
        }

        if (!AuthPolicies.Allows(policy, user))
        {
            return Problems.Forbidden(AuthPolicies.Needed(policy));
        }

        http.User = user;
        return null;
    }
}
