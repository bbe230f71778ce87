using Orchestrator.Core.Hosting;
using Orchestrator.Server;
using Orchestrator.Server.Api;
using Orchestrator.Server.Durable;

var builder = WebApplication.CreateBuilder(args);
builder.UseDefaultServerPort(8080);
builder.UseRequestLineLimit();
builder.Services.AddOrchestratorCore(builder.Configuration);
builder.Services.AddDurableServer();

var app = builder.Build();
app.UseProblemErrors();
app.MapHealth();
app.MapWorkflowApi();
app.MapDurableHttpApi();
app.Run();
