using System.Text.Json;
using Microsoft.DurableTask;
using Moq;
using Orchestrator.Core.Workflows;

namespace Orchestrator.Core.Tests.Fakes;

/// <summary>
/// A <see cref="TaskOrchestrationContext"/> whose activities are answered by the test, recording every call in
/// order. Inputs are round-tripped through JSON, as the durable runtime would.
/// </summary>
public sealed class OrchestrationContextFake
{
    private readonly Mock<TaskOrchestrationContext> mock = new() { CallBase = true };
    private readonly List<(string Name, object? Input, TaskOptions? Options)> calls = [];
    private readonly DateTime now;

    public OrchestrationContextFake(DateTime? now = null)
    {
        this.now = now ?? new DateTime(2026, 1, 1, 0, 0, 0, DateTimeKind.Utc);
        mock.SetupGet(c => c.CurrentUtcDateTime).Returns(this.now);
        mock.SetupGet(c => c.InstanceId).Returns("run-1");
        mock.SetupGet(c => c.IsReplaying).Returns(false);
        mock.Setup(c => c.GetInput<WorkflowRunInput>()).Returns(() => Input);
        // Moq matches generic arguments by assignability and the last setup wins: the general one goes first.
        mock.Setup(c => c.CallActivityAsync<object>(It.IsAny<TaskName>(), It.IsAny<object?>(), It.IsAny<TaskOptions?>()))
            .Returns((TaskName name, object? input, TaskOptions? options) =>
            {
                calls.Add((name.Name, RoundTrip(input), options));
                return Task.FromResult<object>(true);
            });
        mock.Setup(c => c.CallActivityAsync<StepResult>(It.IsAny<TaskName>(), It.IsAny<object?>(), It.IsAny<TaskOptions?>()))
            .Returns((TaskName name, object? input, TaskOptions? options) =>
            {
                calls.Add((name.Name, RoundTrip(input), options));
                return StepAnswer((LlmStepRequest)RoundTrip(input)!);
            });
        mock.Setup(c => c.CallActivityAsync<RecordStepResult>(It.IsAny<TaskName>(), It.IsAny<object?>(), It.IsAny<TaskOptions?>()))
            .Returns((TaskName name, object? input, TaskOptions? options) =>
            {
                var request = (RecordStepRequest)RoundTrip(input)!;
                calls.Add((name.Name, request, options));
                return Task.FromResult(new RecordStepResult(request.Status, request.OutputJson, AlreadyFinished: false));
            });

        // Timers never fire unless a test says so; events answer from EventAnswer.
        mock.Setup(c => c.CreateTimer(It.IsAny<DateTime>(), It.IsAny<CancellationToken>()))
            .Returns((DateTime fireAt, CancellationToken _) =>
            {
                calls.Add(("timer", fireAt, null));
                return TimersFire ? Task.CompletedTask : new TaskCompletionSource().Task;
            });
        mock.Setup(c => c.WaitForExternalEvent<JsonElement>(It.IsAny<string>(), It.IsAny<CancellationToken>()))
            .Returns((string name, CancellationToken cancellation) =>
            {
                calls.Add(("event:" + name, null, null));
                if (!TimersFire)
                {
                    return Task.FromResult(EventAnswer(name));
                }

                // Like the real context: a wait whose timer fired is cancelled through its token.
                var never = new TaskCompletionSource<JsonElement>();
                cancellation.Register(() => never.TrySetCanceled(cancellation));
                return never.Task;
            });
        mock.Setup(c => c.SetCustomStatus(It.IsAny<object?>()));
    }

    /// <summary>When true, every durable timer fires at once and no event ever arrives (timeouts win every race).</summary>
    public bool TimersFire { get; set; }

    /// <summary>What <c>GetInput</c> returns, for hosts' trigger wrappers that read the input themselves.</summary>
    public WorkflowRunInput? Input { get; set; }

    /// <summary>How external events answer; by default an approval.</summary>
    public Func<string, JsonElement> EventAnswer { get; set; } = _ => JsonSerializer.SerializeToElement(new { approved = true, comment = "ok" });

    /// <summary>How LLM step activities answer; by default an echo of the rendered prompt.</summary>
    public Func<LlmStepRequest, Task<StepResult>> StepAnswer { get; set; } =
        request => Task.FromResult(new StepResult($"out({request.StepId})", 1, 1, 0m, "fake", Reused: false));

    public TaskOrchestrationContext Object => mock.Object;

    public IReadOnlyList<(string Name, object? Input, TaskOptions? Options)> Calls => calls;

    /// <summary>How far ahead of the (fixed) current time each durable timer was set, in order.</summary>
    public IEnumerable<TimeSpan> TimerDelays => calls.Where(c => c.Name == "timer").Select(c => (DateTime)c.Input! - now);

    public IEnumerable<LlmStepRequest> StepRequests => calls.Where(c => c.Name == WorkflowTaskNames.RunLlmStep).Select(c => (LlmStepRequest)c.Input!);

    public FinishRunRequest? Finish => calls.Where(c => c.Name == WorkflowTaskNames.FinishRun).Select(c => (FinishRunRequest)c.Input!).SingleOrDefault();

    private static object? RoundTrip(object? input) =>
        input is null ? null : JsonSerializer.Deserialize(JsonSerializer.Serialize(input, input.GetType()), input.GetType());
}
