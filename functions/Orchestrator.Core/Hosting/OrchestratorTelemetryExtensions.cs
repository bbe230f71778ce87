using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Npgsql;
using Orchestrator.Core.Incidents.Notices;
using OpenTelemetry;
using OpenTelemetry.Metrics;
using OpenTelemetry.Resources;
using OpenTelemetry.Trace;

namespace Orchestrator.Core.Hosting;

/// <summary>OpenTelemetry traces and metrics across HTTP → orchestration → activity → LLM → PostgreSQL.</summary>
public static class OrchestratorTelemetryExtensions
{
    /// <summary>
    /// Registers the listeners always — DurableTask.Core only creates its spans, and so only carries the request's
    /// trace context into the orchestration and its activities, while something listens — and exports over OTLP when
    /// <c>OTEL_EXPORTER_OTLP_ENDPOINT</c> is set (the other <c>OTEL_*</c> variables apply as usual). Returns the
    /// builder so a host can add its own exporter.
    /// </summary>
    public static OpenTelemetryBuilder AddOrchestratorTelemetry(this IServiceCollection services, IConfiguration configuration)
    {
        var telemetry = services.AddOpenTelemetry()
            .ConfigureResource(resource =>
            {
                if (string.IsNullOrWhiteSpace(configuration["OTEL_SERVICE_NAME"]))
                {
                    resource.AddService(OrchestratorTelemetry.ServiceName, serviceVersion: typeof(OrchestratorTelemetry).Assembly.GetName().Version?.ToString());
                }
            })
            .WithTracing(tracing => tracing
                .SetSampler(new ParentBasedSampler(new RootClientSpanSampler()))
                .AddSource(OrchestratorTelemetry.DurableTaskCoreSource, OrchestratorTelemetry.DurableTaskSdkSource, OrchestratorTelemetry.LlmSource)
                .AddAspNetCoreInstrumentation(o => o.Filter = context => !IsProbe(context.Request.Path))
                // A notice's URL is its webhook's secret: notice requests get no span (their outcome is in notices_total).
                .AddHttpClientInstrumentation(o => o.FilterHttpRequestMessage = request => !request.Options.TryGetValue(NoticeDispatcher.NoticeRequest, out _))
                .AddNpgsql())
            .WithMetrics(metrics => metrics
                .AddAspNetCoreInstrumentation()
                .AddHttpClientInstrumentation()
                .AddMeter(OrchestratorTelemetry.LlmSource, "Npgsql", "System.Runtime"));
        if (!string.IsNullOrWhiteSpace(configuration["OTEL_EXPORTER_OTLP_ENDPOINT"]))
        {
            telemetry.UseOtlpExporter();
        }

        return telemetry;
    }

    /// <summary>Liveness probes and scrapes are not worth a trace each.</summary>
    private static bool IsProbe(PathString path) =>
        path.StartsWithSegments("/health") || path.StartsWithSegments("/api/health") || path.StartsWithSegments("/metrics");
}
