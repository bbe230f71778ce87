using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc;
using Microsoft.Azure.Functions.Worker;
using Microsoft.DurableTask.Client;
using Orchestrator.Core.Api;

namespace Orchestrator.Functions.Api;

/// <summary>HTTP triggers of the workflow API; each hands the request to the Core handler.</summary>
public sealed class WorkflowFunctions(WorkflowHttpHandlers api, DefinitionHttpHandlers definitions)
{
    [Function("StartWorkflow")]
    public Task<IActionResult> StartAsync(
        [HttpTrigger(AuthorizationLevel.Function, "post", Route = WorkflowHttpHandlers.WorkflowsRoute)] HttpRequest request,
        [DurableClient] DurableTaskClient client,
        FunctionContext context) =>
        api.StartAsync(request, client, new FunctionsStatusQueryPayloadFactory(context), request.HttpContext.RequestAborted).ExecuteAsync(request);

    [Function("ListWorkflows")]
    public Task<IActionResult> ListAsync(
        [HttpTrigger(AuthorizationLevel.Function, "get", Route = WorkflowHttpHandlers.WorkflowsRoute)] HttpRequest request) =>
        api.ListAsync(request, request.HttpContext.RequestAborted).ExecuteAsync(request);

    [Function("GetWorkflow")]
    public Task<IActionResult> GetAsync(
        [HttpTrigger(AuthorizationLevel.Function, "get", Route = WorkflowHttpHandlers.WorkflowsRoute + "/{id}")] HttpRequest request,
        string id) =>
        api.GetAsync(id, request.HttpContext.RequestAborted).ExecuteAsync(request);

    [Function("CancelWorkflow")]
    public Task<IActionResult> CancelAsync(
        [HttpTrigger(AuthorizationLevel.Function, "post", Route = WorkflowHttpHandlers.WorkflowsRoute + "/{id}/cancel")] HttpRequest request,
        string id,
        [DurableClient] DurableTaskClient client) =>
        api.CancelAsync(request, id, client, request.HttpContext.RequestAborted).ExecuteAsync(request);

    [Function("RetryWorkflow")]
    public Task<IActionResult> RetryAsync(
        [HttpTrigger(AuthorizationLevel.Function, "post", Route = WorkflowHttpHandlers.WorkflowsRoute + "/{id}/retry")] HttpRequest request,
        string id,
        [DurableClient] DurableTaskClient client,
        FunctionContext context) =>
        api.RetryAsync(request, id, client, new FunctionsStatusQueryPayloadFactory(context), request.HttpContext.RequestAborted).ExecuteAsync(request);

    [Function("RaiseWorkflowEvent")]
    public Task<IActionResult> RaiseEventAsync(
        [HttpTrigger(AuthorizationLevel.Function, "post", Route = WorkflowHttpHandlers.WorkflowsRoute + "/{id}/events/{name}")] HttpRequest request,
        string id,
        string name,
        [DurableClient] DurableTaskClient client) =>
        api.RaiseEventAsync(request, id, name, client, request.HttpContext.RequestAborted).ExecuteAsync(request);

    [Function("ListDefinitions")]
    public Task<IActionResult> ListDefinitionsAsync(
        [HttpTrigger(AuthorizationLevel.Function, "get", Route = DefinitionHttpHandlers.DefinitionsRoute)] HttpRequest request) =>
        Task.FromResult(definitions.List()).ExecuteAsync(request);

    [Function("GetDefinition")]
    public Task<IActionResult> GetDefinitionAsync(
        [HttpTrigger(AuthorizationLevel.Function, "get", Route = DefinitionHttpHandlers.DefinitionsRoute + "/{name}")] HttpRequest request,
        string name) =>
        Task.FromResult(definitions.Get(name)).ExecuteAsync(request);
}
