using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc;
using Microsoft.Azure.Functions.Worker;
using Orchestrator.Core.Operations;

namespace Orchestrator.Functions.Api;

/// <summary>
/// <c>/api/admin/*</c>. The Functions host refuses routes that start with "admin" (its own admin API lives at
/// <c>/admin</c>), so the first segment is a route parameter constrained to the word "admin".
/// </summary>
public sealed class AdminFunctions(AdminHttpHandlers admin)
{
    private const string Prefix = "{area:regex(^admin$)}/";

    [Function("ResetCircuitBreakers")]
    public Task<IActionResult> ResetAsync(
        [HttpTrigger(AuthorizationLevel.Function, "post", Route = Prefix + AdminHttpHandlers.CircuitBreakerResetRoute)] HttpRequest request) =>
        admin.ResetCircuitBreakersAsync(request, request.HttpContext.RequestAborted).ExecuteAsync(request);

    [Function("GetMaintenance")]
    public Task<IActionResult> GetMaintenanceAsync(
        [HttpTrigger(AuthorizationLevel.Function, "get", Route = Prefix + AdminHttpHandlers.MaintenanceRoute)] HttpRequest request) =>
        Task.FromResult(admin.GetMaintenance()).ExecuteAsync(request);

    [Function("EnableMaintenance")]
    public Task<IActionResult> EnableMaintenanceAsync(
        [HttpTrigger(AuthorizationLevel.Function, "post", Route = Prefix + AdminHttpHandlers.MaintenanceRoute + "/enable")] HttpRequest request) =>
        admin.SetMaintenanceAsync(request, enabled: true, request.HttpContext.RequestAborted).ExecuteAsync(request);

    [Function("DisableMaintenance")]
    public Task<IActionResult> DisableMaintenanceAsync(
        [HttpTrigger(AuthorizationLevel.Function, "post", Route = Prefix + AdminHttpHandlers.MaintenanceRoute + "/disable")] HttpRequest request) =>
        admin.SetMaintenanceAsync(request, enabled: false, request.HttpContext.RequestAborted).ExecuteAsync(request);

    [Function("GetAdminAudit")]
    public Task<IActionResult> GetAuditAsync(
        [HttpTrigger(AuthorizationLevel.Function, "get", Route = Prefix + AdminHttpHandlers.AuditRoute)] HttpRequest request) =>
        admin.GetAuditAsync(request, request.HttpContext.RequestAborted).ExecuteAsync(request);
}
