namespace Orchestrator.Core.Health;

/// <summary>Health check tags: <c>ready</c> checks decide <c>/health/ready</c> (Kubernetes readiness).</summary>
public static class HealthTags
{
    public const string Ready = "ready";
}
