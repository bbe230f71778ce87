using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc;
using Microsoft.Azure.Functions.Worker;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Orchestrator.Core.Health;
using Orchestrator.Core.Metrics;

namespace Orchestrator.Functions.Api;

/// <summary><c>/api/health</c>, <c>/api/health/ready</c>, <c>/api/health/live</c> and <c>/api/metrics</c>: anonymous, as on the Server.</summary>
public sealed class HealthFunctions(HealthCheckService health, MetricsEndpoint metrics)
{
    [Function("Health")]
    public Task<IActionResult> GetAsync([HttpTrigger(AuthorizationLevel.Anonymous, "get", Route = "health")] HttpRequest request) =>
        ReportAsync(request, _ => true);

    [Function("HealthReady")]
    public Task<IActionResult> ReadyAsync([HttpTrigger(AuthorizationLevel.Anonymous, "get", Route = "health/ready")] HttpRequest request) =>
        ReportAsync(request, check => check.Tags.Contains(HealthTags.Ready));

    [Function("HealthLive")]
    public Task<IActionResult> LiveAsync([HttpTrigger(AuthorizationLevel.Anonymous, "get", Route = "health/live")] HttpRequest request) =>
        ReportAsync(request, _ => false);

    [Function("Metrics")]
    public async Task<IActionResult> MetricsAsync([HttpTrigger(AuthorizationLevel.Anonymous, "get", Route = "metrics")] HttpRequest request)
    {
        await metrics.WriteAsync(request.HttpContext);
        return new EmptyResult();
    }

    private async Task<IActionResult> ReportAsync(HttpRequest request, Func<HealthCheckRegistration, bool> predicate)
    {
        var report = await health.CheckHealthAsync(predicate, request.HttpContext.RequestAborted);
        return new ObjectResult(HealthResponse.ToBody(report)) { StatusCode = HealthResponse.StatusCode(report) };
    }
}
