using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Orchestrator.Core.Api;
using Orchestrator.Core.Auth;
using Orchestrator.Core.Llm;

namespace Orchestrator.Core.Operations;

/// <summary>
/// <c>/admin/*</c>: circuit-breaker reset and maintenance mode. Each action is cluster-wide (state in PostgreSQL),
/// idempotent, and audited with who did it (the admin token, never its value).
/// </summary>
public sealed class AdminHttpHandlers(
    OperationsStore store,
    ClusterState cluster,
    CircuitBreakerRegistry breakers,
    IOptions<ApiOptions> api,
    ILogger<AdminHttpHandlers> logger)
{
    public const string CircuitBreakerResetRoute = "circuit-breaker/reset";
    public const string MaintenanceRoute = "maintenance";
    public const string AuditRoute = "audit";

    public const int MaxAuditLimit = 500;

    private static readonly string[] MaintenanceFields = ["reason"];

    public async Task<IResult> ResetCircuitBreakersAsync(HttpRequest request, CancellationToken cancellationToken)
    {
        var name = request.Query["name"].ToString();
        if (request.Query.TryGetValue("name", out var values) && (values.Count != 1 || !IsBreakerName(name)))
        {
            return Problems.BadRequest("name", "must be one breaker name (letters, digits, '.', '_', '-'), or absent to reset every breaker");
        }

        var target = string.IsNullOrEmpty(name) ? null : name;
        var before = breakers.States().ToDictionary(b => b.Name, b => b.State.ToString());
        var actor = AuthPolicies.ActorOf(request.HttpContext.User);
        var reset = await store.RequestBreakerResetAsync(target, breakers.Names, actor, JsonSerializer.Serialize(new { stateHere = before }), cancellationToken);
        if (target is not null && reset.Count == 0)
        {
            var known = breakers.Names.ToList();
            return Problems.NotFound("name", $"no circuit breaker is named '{target}'{Definitions.Suggestions.Hint(target, known)}; known: {string.Join(", ", known)}");
        }

        breakers.ApplyReset(reset);
        Log.AdminAction(logger, actor, "circuit-breaker.reset", target ?? "*", reset.Count > 0);
        return TypedResults.Ok(new
        {
            reset = reset.Select(r => r.Name).Order(StringComparer.Ordinal).ToList(),
            before,
            note = string.Create(CultureInfo.InvariantCulture, $"every instance closes these breakers within {breakers.SyncInterval.TotalSeconds} s"),
        });
    }

    public IResult GetMaintenance() => TypedResults.Ok(View(cluster.Maintenance, changed: null));

    public async Task<IResult> SetMaintenanceAsync(HttpRequest request, bool enabled, CancellationToken cancellationToken)
    {
        var (body, problem) = await RequestBodies.ReadObjectAsync(
            request, api.Value.MaxRequestBytes, required: false, MaintenanceFields, "with an optional 'reason'", cancellationToken);
        if (problem is not null)
        {
            return problem;
        }

        if (RouteValues.ReasonIn(body, out var reason) is { } badReason)
        {
            return badReason;
        }

        var actor = AuthPolicies.ActorOf(request.HttpContext.User);
        var change = await store.SetMaintenanceAsync(enabled, reason, actor, cancellationToken);
        cluster.Apply(change.State);
        Log.AdminAction(logger, actor, enabled ? "maintenance.enable" : "maintenance.disable", "maintenance", change.Changed);
        return TypedResults.Ok(View(change.State, change.Changed));
    }

    public async Task<IResult> GetAuditAsync(HttpRequest request, CancellationToken cancellationToken)
    {
        var errors = new List<Definitions.DefinitionError>();
        QueryParameters.Known(request.Query, ["limit"], errors);
        var limit = QueryParameters.PageSize(request.Query, "limit", 50, MaxAuditLimit, errors);
        if (errors.Count > 0)
        {
            return Problems.Validation("The query string is invalid.", errors);
        }

        var entries = await store.GetAuditAsync(limit, cancellationToken);
        return TypedResults.Ok(new
        {
            entries = entries.Select(e => new
            {
                e.Id,
                e.At,
                e.Actor,
                e.Action,
                e.Target,
                e.Changed,
                detail = e.DetailJson is null ? (JsonElement?)null : JsonDocument.Parse(e.DetailJson).RootElement.Clone(),
            }),
        });
    }

    private static object View(MaintenanceState state, bool? changed) => new
    {
        enabled = state.Enabled,
        since = state.Since,
        reason = state.Reason,
        by = state.By,
        changed,
    };

    private static bool IsBreakerName(string name) =>
        name.Length is > 0 and <= 100 && name.All(c => char.IsAsciiLetterOrDigit(c) || c is '.' or '_' or '-');
}
