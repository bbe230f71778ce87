using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc;
using Microsoft.Azure.Functions.Worker;
using Orchestrator.Core.Api;

namespace Orchestrator.Functions.Api;

/// <summary>HTTP triggers of the incident API; each hands the request to the Core handler (acknowledge and resolve need the admin token, see <c>AuthPolicies.ForPath</c>).</summary>
public sealed class IncidentFunctions(IncidentHttpHandlers api)
{
    [Function("ListIncidents")]
    public Task<IActionResult> ListAsync(
        [HttpTrigger(AuthorizationLevel.Function, "get", Route = IncidentHttpHandlers.IncidentsRoute)] HttpRequest request) =>
        api.ListAsync(request, request.HttpContext.RequestAborted).ExecuteAsync(request);

    [Function("GetIncident")]
    public Task<IActionResult> GetAsync(
        [HttpTrigger(AuthorizationLevel.Function, "get", Route = IncidentHttpHandlers.IncidentsRoute + "/{id}")] HttpRequest request,
        string id) =>
        api.GetAsync(id, request.HttpContext.RequestAborted).ExecuteAsync(request);

    [Function("GetIncidentReport")]
    public Task<IActionResult> ReportAsync(
        [HttpTrigger(AuthorizationLevel.Function, "get", Route = IncidentHttpHandlers.IncidentsRoute + "/{id}/report")] HttpRequest request,
        string id) =>
        api.ReportAsync(id, request.HttpContext.RequestAborted).ExecuteAsync(request);

    [Function("AcknowledgeIncident")]
    public Task<IActionResult> AcknowledgeAsync(
        [HttpTrigger(AuthorizationLevel.Function, "post", Route = IncidentHttpHandlers.IncidentsRoute + "/{id}/acknowledge")] HttpRequest request,
        string id) =>
        api.AcknowledgeAsync(request, id, request.HttpContext.RequestAborted).ExecuteAsync(request);

    [Function("ResolveIncident")]
    public Task<IActionResult> ResolveAsync(
        [HttpTrigger(AuthorizationLevel.Function, "post", Route = IncidentHttpHandlers.IncidentsRoute + "/{id}/resolve")] HttpRequest request,
        string id) =>
        api.ResolveAsync(request, id, request.HttpContext.RequestAborted).ExecuteAsync(request);
}
