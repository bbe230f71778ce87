using Microsoft.AspNetCore.Diagnostics;
using Microsoft.AspNetCore.Diagnostics.HealthChecks;
using Microsoft.AspNetCore.Mvc;
using Microsoft.DurableTask.Client;
using Orchestrator.Core.Api;
using Orchestrator.Core.Auth;
using Orchestrator.Core.Health;
using Orchestrator.Core.Metrics;
using Orchestrator.Core.Operations;

namespace Orchestrator.Server.Api;

/// <summary>The Server's routes: each one hands the request to a Core handler and holds no logic of its own.</summary>
public static class ServerRoutes
{
    // MapHealthChecks takes every method; with this metadata routing answers 405 for any but GET and HEAD.
    private static readonly HttpMethodMetadata HealthMethods = new([HttpMethods.Get, HttpMethods.Head]);

    public static WebApplication MapWorkflowApi(this WebApplication app)
    {
        var workflows = app.MapGroup("/api/" + WorkflowHttpHandlers.WorkflowsRoute).RequireAuthorization(AuthPolicies.Api);
        workflows.MapGet("", (HttpRequest request, WorkflowHttpHandlers api, CancellationToken ct) => api.ListAsync(request, ct));
        workflows.MapPost("", (HttpRequest request, WorkflowHttpHandlers api, DurableTaskClient client, IStatusQueryPayloadFactory payloads, CancellationToken ct) =>
            api.StartAsync(request, client, payloads, ct));
        workflows.MapGet("/{id}", (string id, WorkflowHttpHandlers api, CancellationToken ct) => api.GetAsync(id, ct));
        workflows.MapPost("/{id}/cancel", (HttpRequest request, string id, WorkflowHttpHandlers api, DurableTaskClient client, CancellationToken ct) =>
            api.CancelAsync(request, id, client, ct));
        workflows.MapPost("/{id}/retry", (HttpRequest request, string id, WorkflowHttpHandlers api, DurableTaskClient client, IStatusQueryPayloadFactory payloads, CancellationToken ct) =>
            api.RetryAsync(request, id, client, payloads, ct));
        workflows.MapPost("/{id}/events/{name}", (HttpRequest request, string id, string name, WorkflowHttpHandlers api, DurableTaskClient client, CancellationToken ct) =>
            api.RaiseEventAsync(request, id, name, client, ct));

        var definitions = app.MapGroup("/api/" + DefinitionHttpHandlers.DefinitionsRoute).RequireAuthorization(AuthPolicies.Api);
        definitions.MapGet("", (DefinitionHttpHandlers api) => api.List());
        definitions.MapGet("/{name}", (string name, DefinitionHttpHandlers api) => api.Get(name));
        return app;
    }

    /// <summary><c>/api/v1/incidents...</c>: reads with an API key or the admin token; acknowledge and resolve with the admin token only.</summary>
    public static WebApplication MapIncidentApi(this WebApplication app)
    {
        var incidents = app.MapGroup("/api/" + IncidentHttpHandlers.IncidentsRoute).RequireAuthorization(AuthPolicies.Api);
        incidents.MapGet("", (HttpRequest request, IncidentHttpHandlers api, CancellationToken ct) => api.ListAsync(request, ct));
        incidents.MapGet("/{id}", (string id, IncidentHttpHandlers api, CancellationToken ct) => api.GetAsync(id, ct));
        incidents.MapGet("/{id}/report", (string id, IncidentHttpHandlers api, CancellationToken ct) => api.ReportAsync(id, ct));
        incidents.MapPost("/{id}/acknowledge", (HttpRequest request, string id, IncidentHttpHandlers api, CancellationToken ct) =>
            api.AcknowledgeAsync(request, id, ct)).RequireAuthorization(AuthPolicies.Admin);
        incidents.MapPost("/{id}/resolve", (HttpRequest request, string id, IncidentHttpHandlers api, CancellationToken ct) =>
            api.ResolveAsync(request, id, ct)).RequireAuthorization(AuthPolicies.Admin);
        return app;
    }

    public static WebApplication MapDurableHttpApi(this WebApplication app)
    {
        var all = app.MapGroup(DurableHttpApi.InstancesRoute).RequireAuthorization(AuthPolicies.Api);
        all.MapGet("", (HttpRequest request, DurableTaskClient client, CancellationToken ct) => DurableHttpApi.ListAsync(request, client, ct));
        // Purging many instances at once is an operator's action: the admin token only.
        all.MapDelete("", (HttpRequest request, DurableTaskClient client, CancellationToken ct) => DurableHttpApi.PurgeAllAsync(request, client, ct))
            .RequireAuthorization(AuthPolicies.Admin);

        var instances = app.MapGroup(DurableHttpApi.InstancesRoute + "/{id}").RequireAuthorization(AuthPolicies.Api);
        instances.MapGet("", (HttpRequest request, string id, DurableTaskClient client, CancellationToken ct) =>
            DurableHttpApi.GetStatusAsync(request, id, client, ct));
        instances.MapPost("/terminate", (string id, [FromQuery] string? reason, DurableHttpApi api, DurableTaskClient client, CancellationToken ct) =>
            api.TerminateAsync(id, reason, client, ct));
        instances.MapPost("/raiseEvent/{eventName}", (HttpRequest request, string id, string eventName, DurableHttpApi api, DurableTaskClient client, CancellationToken ct) =>
            api.RaiseEventAsync(request, id, eventName, client, ct));
        instances.MapPost("/suspend", (string id, [FromQuery] string? reason, DurableTaskClient client, CancellationToken ct) =>
            DurableHttpApi.SuspendAsync(id, reason, resume: false, client, ct));
        instances.MapPost("/resume", (string id, [FromQuery] string? reason, DurableTaskClient client, CancellationToken ct) =>
            DurableHttpApi.SuspendAsync(id, reason, resume: true, client, ct));
        instances.MapDelete("", (string id, DurableTaskClient client, CancellationToken ct) => DurableHttpApi.PurgeAsync(id, client, ct));
        instances.MapPost("/restart", (string id) => DurableHttpApi.Restart(id));
        return app;
    }

    /// <summary><c>/admin/*</c> (the runbook's paths) and <c>/api/admin/*</c> (the Functions app's): the admin token only.</summary>
    public static WebApplication MapAdminApi(this WebApplication app)
    {
        foreach (var prefix in new[] { "/admin", "/api/admin" })
        {
            var admin = app.MapGroup(prefix).RequireAuthorization(AuthPolicies.Admin);
            admin.MapPost("/" + AdminHttpHandlers.CircuitBreakerResetRoute, (HttpRequest request, AdminHttpHandlers api, CancellationToken ct) =>
                api.ResetCircuitBreakersAsync(request, ct));
            admin.MapGet("/" + AdminHttpHandlers.MaintenanceRoute, (AdminHttpHandlers api) => api.GetMaintenance());
            admin.MapPost("/" + AdminHttpHandlers.MaintenanceRoute + "/enable", (HttpRequest request, AdminHttpHandlers api, CancellationToken ct) =>
                api.SetMaintenanceAsync(request, enabled: true, ct));
            admin.MapPost("/" + AdminHttpHandlers.MaintenanceRoute + "/disable", (HttpRequest request, AdminHttpHandlers api, CancellationToken ct) =>
                api.SetMaintenanceAsync(request, enabled: false, ct));
            admin.MapGet("/" + AdminHttpHandlers.AuditRoute, (HttpRequest request, AdminHttpHandlers api, CancellationToken ct) =>
                api.GetAuditAsync(request, ct));
        }

        return app;
    }

    /// <summary>
    /// <c>/health</c> (every component), <c>/health/ready</c> (what readiness needs: the primary and the task hub),
    /// <c>/health/live</c> (the process only); also under <c>/api</c> as in the Functions app. Anonymous.
    /// </summary>
    public static WebApplication MapHealth(this WebApplication app)
    {
        foreach (var prefix in new[] { "", "/api" })
        {
            // The default status codes are the contract: healthy and degraded 200, unhealthy 503.
            app.MapHealthChecks(prefix + "/health", new HealthCheckOptions { ResponseWriter = HealthResponse.WriteAsync }).AllowAnonymous().WithMetadata(HealthMethods);
            app.MapHealthChecks(prefix + "/health/ready", new HealthCheckOptions
            {
                Predicate = check => check.Tags.Contains(HealthTags.Ready),
                ResponseWriter = HealthResponse.WriteAsync,
            }).AllowAnonymous().WithMetadata(HealthMethods);
            app.MapHealthChecks(prefix + "/health/live", new HealthCheckOptions { Predicate = _ => false, ResponseWriter = HealthResponse.WriteAsync }).AllowAnonymous().WithMetadata(HealthMethods);
        }

        return app;
    }

    /// <summary><c>GET /metrics</c> and <c>GET /api/metrics</c>: Prometheus text exposition. Anonymous.</summary>
    public static WebApplication MapMetrics(this WebApplication app)
    {
        foreach (var path in new[] { "/metrics", "/api/metrics" })
        {
            app.MapGet(path, (HttpContext context, MetricsEndpoint metrics) => metrics.WriteAsync(context)).AllowAnonymous();
        }

        return app;
    }

    /// <summary>
    /// The one place where answers no handler wrote become problem documents: an unknown route (404), a known route
    /// asked with another method (405, with routing's <c>Allow</c> header), a request that could not be bound or read
    /// (400, 413), and any unhandled error — which is logged once and answered without a stack trace.
    /// </summary>
    public static WebApplication UseProblemErrors(this WebApplication app)
    {
        app.UseExceptionHandler(new ExceptionHandlerOptions
        {
            // A dependency that is down (PostgreSQL, the task hub's storage) is a 503 the client may retry, not a 500.
            StatusCodeSelector = ex => ex switch
            {
                BadHttpRequestException bad => bad.StatusCode,
                Npgsql.NpgsqlException or TimeoutException or Azure.RequestFailedException => StatusCodes.Status503ServiceUnavailable,
                _ => StatusCodes.Status500InternalServerError,
            },
            // Written here rather than by the problem details service, which writes nothing when Accept names no JSON type.
            ExceptionHandler = context => Problems.ForStatus(
                context.Response.StatusCode,
                context.Features.Get<IExceptionHandlerFeature>()?.Error is BadHttpRequestException bad ? bad.Message : null).ExecuteAsync(context),
            // A request the client got wrong is its error, not ours: no error log (and no stack trace in the log) for it.
            SuppressDiagnosticsCallback = diagnostics => diagnostics.Exception is BadHttpRequestException,
        });
        app.UseStatusCodePages(context => Problems.ForStatus(context.HttpContext.Response.StatusCode).ExecuteAsync(context.HttpContext));
        return app;
    }
}
