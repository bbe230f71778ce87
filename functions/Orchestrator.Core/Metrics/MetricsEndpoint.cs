using Microsoft.AspNetCore.Http;
using Prometheus;

namespace Orchestrator.Core.Metrics;

/// <summary><c>GET /metrics</c>: the Prometheus text exposition of the product's registry (prometheus-net).</summary>
public sealed class MetricsEndpoint(OrchestratorMetrics metrics, ClusterMetrics cluster)
{
    public const string ContentType = "text/plain; version=0.0.4; charset=utf-8";

    public async Task WriteAsync(HttpContext context)
    {
        await cluster.CollectAsync(context.RequestAborted);
        context.Response.StatusCode = StatusCodes.Status200OK;
        context.Response.ContentType = ContentType;
        context.Response.Headers.CacheControl = "no-store";
        await metrics.Registry.CollectAndExportAsTextAsync(context.Response.Body, context.RequestAborted);
    }
}
