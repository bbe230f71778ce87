using System.Security.Claims;

namespace Orchestrator.Core.Auth;

/// <summary>The authorization policies and roles of the HTTP API, and who a caller is for the audit log.</summary>
public static class AuthPolicies
{
    public const string Scheme = "Bearer";

    /// <summary><c>/admin/*</c>: the admin token only.</summary>
    public const string Admin = "orchestrator-admin";

    /// <summary><c>/api/v1/*</c> and the Durable HTTP API: an API key or the admin token.</summary>
    public const string Api = "orchestrator-api";

    public const string AdminRole = "admin";
    public const string ApiRole = "api";

    /// <summary>
    /// The policy of a request path for hosts that authorize by path (the Functions app, whose routes carry the
    /// <c>/api</c> prefix): null for the anonymous <c>/health*</c> and <c>/metrics</c>.
    /// </summary>
    public static string? ForPath(string path)
    {
        var p = path.StartsWith("/api/", StringComparison.OrdinalIgnoreCase) ? path[4..] : path;
        if (p.Equals("/health", StringComparison.OrdinalIgnoreCase) || p.StartsWith("/health/", StringComparison.OrdinalIgnoreCase)
            || p.Equals("/metrics", StringComparison.OrdinalIgnoreCase))
        {
            return null;
        }

        return p.Equals("/admin", StringComparison.OrdinalIgnoreCase) || p.StartsWith("/admin/", StringComparison.OrdinalIgnoreCase)
            || IsIncidentChange(p) ? Admin : Api;
    }

    /// <summary><c>/v1/incidents/{id}/acknowledge</c> and <c>/resolve</c>: changing an incident by hand is an operator's action.</summary>
    private static bool IsIncidentChange(string path)
    {
        const string Incidents = "/v1/incidents/";
        if (!path.StartsWith(Incidents, StringComparison.OrdinalIgnoreCase))
        {
            return false;
        }

        var rest = path[Incidents.Length..].TrimEnd('/').Split('/');
        return rest.Length == 2
            && (rest[1].Equals("acknowledge", StringComparison.OrdinalIgnoreCase) || rest[1].Equals("resolve", StringComparison.OrdinalIgnoreCase));
    }

    /// <summary>Whether <paramref name="user"/> may use a route of <paramref name="policy"/>.</summary>
    public static bool Allows(string policy, ClaimsPrincipal user) =>
        user.IsInRole(AdminRole) || (policy == Api && user.IsInRole(ApiRole));

    /// <summary>What the audit log records: <c>admin-token</c>, <c>api-key:&lt;name&gt;</c> or <c>auth-disabled</c>; never a secret.</summary>
    public static string ActorOf(ClaimsPrincipal? user) =>
        user?.Identity is { IsAuthenticated: true, Name: { Length: > 0 } name } ? name : "anonymous";

    /// <summary>What a caller without the right token is told it needs.</summary>
    public static string Needed(string policy) => policy == Admin
        ? "this route needs the admin token: Authorization: Bearer $ADMIN_TOKEN"
        : "this route needs an API key or the admin token: Authorization: Bearer <token>";
}
