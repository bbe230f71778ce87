using Orchestrator.Core.Hosting;
using Orchestrator.Core.Incidents;
using Orchestrator.Server;
using Orchestrator.Server.Api;
using Orchestrator.Server.Durable;

return StartupGuard.Run(() =>
{
    var builder = WebApplication.CreateBuilder(args);
    builder.Configuration.AddOrchestratorConfiguration();
    builder.Logging.AddOrchestratorLogging(builder.Configuration);
    builder.UseDefaultServerPort(8080);
    builder.UseRequestLineLimit();
    builder.Services.AddOrchestratorCore(builder.Configuration);
    builder.Services.AddOrchestratorTelemetry(builder.Configuration);
    builder.Services.AddDurableServer();
    builder.RefuseAuthOffUnlessLoopback();

    var app = builder.Build();
    app.UseProblemErrors();
    app.UseAuthentication();
    app.UseAuthorization();
    app.MapHealth();
    app.MapMetrics();
    app.MapWorkflowApi();
    app.MapIncidentApi();
    app.MapAdminApi();
    app.MapDurableHttpApi();
    app.Run();
});
