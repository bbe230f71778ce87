using Microsoft.Azure.Functions.Worker;
using Microsoft.Azure.Functions.Worker.Middleware;
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

        var refusal = BearerChallenges.Authorize(http, policy, tokens);
        if (refusal is not null)
        {
            await refusal.ExecuteAsync(http);
            return;
        }

        await next(context);
    }
}
