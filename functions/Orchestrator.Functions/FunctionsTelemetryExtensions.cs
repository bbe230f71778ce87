using Azure.Monitor.OpenTelemetry.Exporter;
using Microsoft.Azure.Functions.Worker.OpenTelemetry;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Orchestrator.Core.Hosting;

namespace Orchestrator.Functions;

/// <summary>The Core's OpenTelemetry wiring plus what the Functions worker adds: the host's trace context and Azure Monitor.</summary>
public static class FunctionsTelemetryExtensions
{
    public const string ConnectionStringKey = "APPLICATIONINSIGHTS_CONNECTION_STRING";

    public static IServiceCollection AddFunctionsTelemetry(this IServiceCollection services, IConfiguration configuration)
    {
        // Makes each invocation's span a child of the Functions host's, so a trace starts at the host's HTTP request.
        var telemetry = services.AddOrchestratorTelemetry(configuration).UseFunctionsWorkerDefaults();
        if (configuration[ConnectionStringKey] is { Length: > 0 } connectionString)
        {
            telemetry.UseAzureMonitorExporter(o => o.ConnectionString = connectionString);
        }

        return services;
    }
}
