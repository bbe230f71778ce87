using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc;
using Microsoft.Azure.Functions.Worker;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Orchestrator.Core.Health;

namespace Orchestrator.Functions.Api;

/// <summary><c>GET /api/health</c>: the same component checks as the Server's <c>/health</c>.</summary>
public sealed class HealthFunctions(HealthCheckService health)
{
    [Function("Health")]
    public async Task<IActionResult> GetAsync([HttpTrigger(AuthorizationLevel.Anonymous, "get", Route = "health")] HttpRequest request)
    {
        var report = await health.CheckHealthAsync(request.HttpContext.RequestAborted);
        return new ObjectResult(HealthResponse.ToBody(report)) { StatusCode = HealthResponse.StatusCode(report) };
    }
}
