using System.Text;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Http;
using Microsoft.Azure.Functions.Worker;
using Microsoft.DurableTask;
using Microsoft.DurableTask.Client;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using Moq;
using Npgsql;
using Orchestrator.Core.Api;
using Orchestrator.Core.Definitions;
using Orchestrator.Core.Persistence;
using Orchestrator.Core.Workflows;
using Orchestrator.Functions.Api;
using Orchestrator.Core.Tests.Fakes;
using Orchestrator.Functions.Workflows;

namespace Orchestrator.Functions.Tests;

/// <summary>The [Function] classes hand their triggers to Core unchanged.</summary>
public sealed class FunctionWrappersTests
{
    [Fact]
    public async Task The_orchestration_trigger_runs_the_core_orchestrator_on_its_input()
    {
        var context = new OrchestrationContextFake
        {
            Input = new WorkflowRunInput("run-9", """{"name":"w","steps":[{"id":"a","type":"llm","prompt":"hello {{ input.who }}"}]}""", """{"who":"world"}""", null),
            StepAnswer = _ => Task.FromResult(new StepResult("hi!", 1, 1, 0m, "fake", false)),
        };

        var result = await WorkflowTaskFunctions.RunOrchestratorAsync(context.Object);

        Assert.Equal(["hello world"], context.StepRequests.Select(r => r.Prompt));
        Assert.Equal(RunStatus.Completed, result.Status);
        Assert.Equal("\"hi!\"", result.OutputJson);
    }

    [Fact]
    public async Task The_start_trigger_answers_a_bad_request_with_the_core_problem_and_schedules_nothing()
    {
        var client = new Mock<DurableTaskClient>("hub");
        var unused = NpgsqlDataSource.Create("Host=127.0.0.1;Database=unused");
        var store = new WorkflowStore(unused);
        var limits = new Orchestrator.Core.Llm.Limits.ProviderLimiterFactory(
            unused, new Orchestrator.Core.Hosting.InstanceIdentity("test"), Options.Create(new Orchestrator.Core.Llm.Limits.LlmLimitOptions()), TimeProvider.System, NullLoggerFactory.Instance);
        var gateway = new Orchestrator.Core.Llm.LlmGateway(
            Options.Create(new Orchestrator.Core.Llm.LlmOptions { Provider = "simulated" }), TimeProvider.System, NullLogger<Orchestrator.Core.Llm.LlmGateway>.Instance, limits);
        var handlers = new WorkflowHttpHandlers(
            new WorkflowRuns(store, new DefinitionRegistry([]), gateway, NullLogger<WorkflowRuns>.Instance), store, Options.Create(new ApiOptions()), ClusterStates.For(unused));
        var http = new DefaultHttpContext { RequestServices = new ServiceCollection().AddLogging().AddProblemDetails().BuildServiceProvider() };
        http.Request.Body = new MemoryStream(Encoding.UTF8.GetBytes("{\"definition\": 5}"));
        http.Response.Body = new MemoryStream();

        await new WorkflowFunctions(handlers, new DefinitionHttpHandlers(new DefinitionRegistry([]))).StartAsync(http.Request, client.Object, Mock.Of<FunctionContext>());

        Assert.Equal(400, http.Response.StatusCode);
        http.Response.Body.Position = 0;
        var problem = JsonNode.Parse(await new StreamReader(http.Response.Body).ReadToEndAsync())!;
        Assert.Equal("definition", problem["errors"]![0]!["path"]!.GetValue<string>());
        client.Verify(c => c.ScheduleNewOrchestrationInstanceAsync(It.IsAny<TaskName>(), It.IsAny<object?>(), It.IsAny<StartOrchestrationOptions?>(), It.IsAny<CancellationToken>()), Times.Never);
    }
}
