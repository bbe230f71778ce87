using System.Text.Json;
using Orchestrator.Core.Definitions;
using Orchestrator.Core.Llm;
using Orchestrator.Core.Tests.Fakes;
using Orchestrator.Core.Workflows;

namespace Orchestrator.Core.Tests.Workflows;

/// <summary>
/// Each shipped sample, run twice through the orchestrator against the same history, schedules exactly the same
/// durable operations with the same inputs: what Durable replay requires of an orchestrator.
/// </summary>
public sealed class SampleReplayTests
{
    public static TheoryData<string, string> Samples => new()
    {
        { "summarize-classify", """{"text":"Checkout fails with HTTP 500 since the deploy."}""" },
        { "extract-many", """{"documents":[{"id":"a","text":"Invoice A"},{"id":"b","text":"Invoice B"},{"id":"c","text":"Invoice C"},{"id":"d","text":"Invoice D"},{"id":"e","text":"Invoice E"}]}""" },
        { "ticket-triage", """{"subject":"Checkout down","body":"500 on every payment","customer":"Ada"}""" },
    };

    [Theory]
    [MemberData(nameof(Samples))]
    public async Task A_sample_schedules_the_same_operations_on_replay_and_completes(string sample, string input)
    {
        var definitionJson = DefinitionJson.Serialize(Load(sample));
        var runInput = new WorkflowRunInput("run-1", definitionJson, input, null);

        var first = await RunAsync(runInput);
        var replay = await RunAsync(runInput);

        Assert.Equal(first.Trace, replay.Trace);
        Assert.Equal(RunStatus.Completed, first.Result.Status);
        Assert.Equal(first.Result.OutputJson, replay.Result.OutputJson);
        Assert.Contains(first.Trace, t => t.StartsWith(WorkflowTaskNames.RunLlmStep, StringComparison.Ordinal));
    }

    [Fact]
    public async Task Extract_many_runs_one_llm_call_per_document_and_fans_in_in_input_order()
    {
        var input = """{"documents":[{"id":"a","text":"A"},{"id":"b","text":"B"},{"id":"c","text":"C"},{"id":"d","text":"D"},{"id":"e","text":"E"},{"id":"f","text":"F"}]}""";
        var context = Fake();

        var result = await new WorkflowOrchestrator().RunAsync(context.Object, new WorkflowRunInput("run-1", DefinitionJson.Serialize(Load("extract-many")), input, null));

        var items = context.StepRequests.Where(r => r.StepId == "extract.fields").ToList();
        Assert.Equal([0, 1, 2, 3, 4, 5], items.Select(r => r.Iteration).Order());
        var documents = JsonDocument.Parse(result.OutputJson!).RootElement.GetProperty("documents");
        Assert.Equal(6, documents.GetArrayLength());
    }

    private static async Task<(List<string> Trace, WorkflowRunResult Result)> RunAsync(WorkflowRunInput input)
    {
        var context = Fake();
        var result = await new WorkflowOrchestrator().RunAsync(context.Object, input);
        return (context.Calls.Select(c => c.Name + " " + JsonSerializer.Serialize(c.Input)).ToList(), result);
    }

    /// <summary>LLM steps answer like the simulated provider: deterministic text, or JSON that fits the step's schema.</summary>
    private static OrchestrationContextFake Fake() => new()
    {
        StepAnswer = request =>
        {
            var output = request.OutputSchemaJson is null
                ? $"text for {request.StepId}[{request.Iteration}]"
                : SchemaSamples.Generate(JsonDocument.Parse(request.OutputSchemaJson).RootElement, request.Prompt)!.ToJsonString();
            return Task.FromResult(new StepResult(output, 10, 5, 0m, "fake", Reused: false));
        },
        EventAnswer = _ => JsonSerializer.SerializeToElement(new { approved = true, comment = "go" }),
    };

    private static WorkflowDefinition Load(string name)
    {
        var path = Path.Combine(AppContext.BaseDirectory, "definitions", name + ".yaml");
        return DefinitionValidator.Validate(DefinitionDocuments.Parse(File.ReadAllText(path), path));
    }
}
