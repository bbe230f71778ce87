using Microsoft.AspNetCore.Http;

namespace Orchestrator.Core.Api;

/// <summary>Another result with one response header added (e.g. <c>Retry-After</c> on a <c>503</c>).</summary>
public sealed class WithHeaderResult(IResult inner, string name, string value) : IResult
{
    public Task ExecuteAsync(HttpContext httpContext)
    {
        httpContext.Response.Headers[name] = value;
        return inner.ExecuteAsync(httpContext);
    }
}
