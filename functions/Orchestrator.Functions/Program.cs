using Microsoft.Azure.Functions.Worker.Builder;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Hosting;
using Orchestrator.Core.Auth;
using Orchestrator.Core.Hosting;
using Orchestrator.Core.Incidents;
using Orchestrator.Functions;
using Orchestrator.Functions.Auth;

return StartupGuard.Run(() =>
{
    var builder = FunctionsApplication.CreateBuilder(args);
    builder.Configuration.AddOrchestratorConfiguration();
    builder.Logging.AddOrchestratorLogging(builder.Configuration, LogFormat.Host);
    builder.ConfigureFunctionsWebApplication();
    builder.UseMiddleware<BearerAuthMiddleware>();
    builder.Services.AddOrchestratorCore(builder.Configuration);
    builder.Services.AddFunctionsTelemetry(builder.Configuration);

    // Auth can be switched off only where Core Tools run the app on a developer's machine.
    if (builder.Configuration.GetValue<bool>("Auth:Disabled") && !builder.Environment.IsDevelopment())
    {
        throw new InvalidConfigurationException("Auth:Disabled is allowed only in local development (AZURE_FUNCTIONS_ENVIRONMENT=Development).");
    }

    builder.Build().Run();
});
