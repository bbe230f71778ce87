using System.Text.Json.Nodes;
using Microsoft.DurableTask;
using Microsoft.DurableTask.Client;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using Orchestrator.Core.Definitions;
using Orchestrator.Core.Llm;
using Orchestrator.Core.Persistence;
using Orchestrator.Core.Reconciliation;
using Orchestrator.Core.Resilience;
using Orchestrator.Core.Tests.Fakes;
using Orchestrator.Core.Workflows;

namespace Orchestrator.Core.Tests.Reconciliation;

/// <summary>
/// A run PostgreSQL shows as unfinished ends up agreeing with its orchestration: it gets the outcome of one that
/// ended, and is started again when its orchestration is gone. Real PostgreSQL; the task hub "hub" is mocked.
/// </summary>
public sealed class RunReconcilerTests : IAsyncLifetime
{
    private const string Definition = """{"name":"two","steps":[{"id":"a","type":"llm","prompt":"A {{ input.text }}"}]}""";

    private readonly PostgresDatabase database = new();
    private readonly DurableClientFake client = new();
    private readonly ResilienceOptions resilience = new() { OutageWindow = TimeSpan.FromMinutes(45), OutageRetryMaxInterval = TimeSpan.FromSeconds(7) };
    private WorkflowStore store = null!;

    public async Task InitializeAsync()
    {
        await database.InitializeAsync();
        store = new WorkflowStore(database.DataSource);
    }

    public Task DisposeAsync() => database.DisposeAsync();

    [Fact]
    public async Task A_running_run_whose_orchestration_is_gone_is_started_again_under_its_id_with_its_definition_and_input()
    {
        await InsertAsync("original", RunStatus.Failed, age: TimeSpan.FromHours(1));
        await InsertAsync("retry", RunStatus.Running, retryOf: "original");

        var report = await Reconciler().ReconcileAsync(client.Object, default);

        Assert.Equal(new ReconcileReport(Checked: 1, Resumed: 1, Repaired: 0), report);
        var (name, input, instanceId) = Assert.Single(client.Scheduled);
        Assert.Equal((WorkflowTaskNames.Orchestrator, "retry"), (name, instanceId));
        var run = Assert.IsType<WorkflowRunInput>(input);
        Assert.Equal("retry", run.RunId);
        Assert.Equal("original", run.RetryOf);
        Assert.True(JsonNode.DeepEquals(JsonNode.Parse(Definition), JsonNode.Parse(run.DefinitionJson)), run.DefinitionJson);
        Assert.True(JsonNode.DeepEquals(JsonNode.Parse("""{"text":"retry"}"""), JsonNode.Parse(run.InputJson)), run.InputJson);
        Assert.Equal(OutagePolicy.From(resilience), run.Outage);
        Assert.Equal(RunStatus.Running, (await store.GetRunAsync("retry", default))!.Status);
    }

    [Fact]
    public async Task A_run_whose_orchestration_completed_gets_its_status_and_output()
    {
        await InsertAsync("done", RunStatus.Running);
        client.AddInstance("done", OrchestrationRuntimeStatus.Completed, new WorkflowRunResult("done", RunStatus.Completed, """{"answer":42}"""));

        var report = await Reconciler().ReconcileAsync(client.Object, default);

        Assert.Equal(new ReconcileReport(Checked: 1, Resumed: 0, Repaired: 1), report);
        var run = (await store.GetRunAsync("done", default))!;
        Assert.Equal((RunStatus.Completed, null), (run.Status, run.Error));
        Assert.True(JsonNode.DeepEquals(JsonNode.Parse("""{"answer":42}"""), JsonNode.Parse(run.OutputJson!)), run.OutputJson);
        Assert.NotNull(run.CompletedAt);
        Assert.Empty(client.Scheduled);
    }

    [Fact]
    public async Task A_run_whose_orchestration_completed_without_a_result_is_failed_saying_so()
    {
        await InsertAsync("empty", RunStatus.Running);
        client.AddInstance("empty", OrchestrationRuntimeStatus.Completed);

        var report = await Reconciler().ReconcileAsync(client.Object, default);

        Assert.Equal(new ReconcileReport(Checked: 1, Resumed: 0, Repaired: 1), report);
        var run = (await store.GetRunAsync("empty", default))!;
        Assert.Equal((RunStatus.Failed, "the orchestration completed without a result"), (run.Status, run.Error));
    }

    [Fact]
    public async Task A_run_whose_orchestration_failed_is_failed_with_the_failure_message()
    {
        await InsertAsync("broken", RunStatus.Running);
        client.AddInstance("broken", OrchestrationRuntimeStatus.Failed,
            failure: new TaskFailureDetails(typeof(DependencyUnavailableException).FullName!, "PostgreSQL stayed unavailable for 00:30:00", null, null, null));

        var report = await Reconciler().ReconcileAsync(client.Object, default);

        Assert.Equal(new ReconcileReport(Checked: 1, Resumed: 0, Repaired: 1), report);
        var run = (await store.GetRunAsync("broken", default))!;
        Assert.Equal((RunStatus.Failed, "PostgreSQL stayed unavailable for 00:30:00"), (run.Status, run.Error));
    }

    [Fact]
    public async Task A_run_whose_orchestration_was_terminated_is_cancelled()
    {
        await InsertAsync("stopped", RunStatus.Pending);
        client.AddInstance("stopped", OrchestrationRuntimeStatus.Terminated);

        var report = await Reconciler().ReconcileAsync(client.Object, default);

        Assert.Equal(new ReconcileReport(Checked: 1, Resumed: 0, Repaired: 1), report);
        Assert.Equal(RunStatus.Cancelled, (await store.GetRunAsync("stopped", default))!.Status);
    }

    [Fact]
    public async Task A_run_whose_orchestration_is_still_running_is_left_alone()
    {
        await InsertAsync("busy", RunStatus.Running);
        client.AddInstance("busy", OrchestrationRuntimeStatus.Running);
        var before = (await store.GetRunAsync("busy", default))!;

        var report = await Reconciler().ReconcileAsync(client.Object, default);

        Assert.Equal(new ReconcileReport(Checked: 1, Resumed: 0, Repaired: 0), report);
        Assert.Equal(["busy"], client.Queried);
        Assert.Empty(client.Scheduled);
        var after = (await store.GetRunAsync("busy", default))!;
        Assert.Equal((before.Status, before.OutputJson, before.Error, before.UpdatedAt), (after.Status, after.OutputJson, after.Error, after.UpdatedAt));
    }

    [Fact]
    public async Task Runs_of_another_task_hub_runs_too_young_and_finished_runs_are_never_looked_at()
    {
        await InsertAsync("elsewhere", RunStatus.Running, taskHub: "other-hub");
        await InsertAsync("young", RunStatus.Pending, age: TimeSpan.Zero);
        await InsertAsync("finished", RunStatus.Completed);
        await InsertAsync("mine", RunStatus.Running);
        client.AddInstance("mine", OrchestrationRuntimeStatus.Running);

        var report = await Reconciler().ReconcileAsync(client.Object, default);

        Assert.Equal(new ReconcileReport(Checked: 1, Resumed: 0, Repaired: 0), report);
        Assert.Equal(["mine"], client.Queried);
        Assert.Empty(client.Scheduled);
        Assert.Equal(RunStatus.Completed, (await store.GetRunAsync("finished", default))!.Status);
    }

    [Fact]
    public async Task Successive_passes_visit_every_run_the_least_recently_reconciled_first()
    {
        for (var i = 0; i < 5; i++)
        {
            await InsertAsync($"run-{i}", RunStatus.Running, age: TimeSpan.FromMinutes(10 - i));
            client.AddInstance($"run-{i}", OrchestrationRuntimeStatus.Running);
        }

        var reconciler = Reconciler(batchSize: 2);
        var passes = new List<(ReconcileReport Report, string[] Visited)>();
        for (var pass = 0; pass < 3; pass++)
        {
            client.Queried.Clear();
            passes.Add((await reconciler.ReconcileAsync(client.Object, default), client.Queried.Order().ToArray()));
        }

        Assert.All(passes, p => Assert.Equal(new ReconcileReport(Checked: 2, Resumed: 0, Repaired: 0), p.Report));
        Assert.Equal(["run-0", "run-1"], passes[0].Visited);
        Assert.Equal(["run-2", "run-3"], passes[1].Visited);
        // run-4 was never compared; run-0 was compared longest ago (with run-1, and it is the older run).
        Assert.Equal(["run-0", "run-4"], passes[2].Visited);
    }

    private RunReconciler Reconciler(int batchSize = 200)
    {
        var llm = Gateways.Create(new LlmOptions { Provider = "simulated" }, database.DataSource);
        var runs = new WorkflowRuns(store, new DefinitionRegistry([]), llm, NullLogger<WorkflowRuns>.Instance, Options.Create(resilience));
        return new RunReconciler(
            store, runs, Options.Create(new ReconcilerOptions { MinimumAge = TimeSpan.FromSeconds(1), BatchSize = batchSize }), NullLogger<RunReconciler>.Instance);
    }

    /// <summary>Stores a run of <paramref name="taskHub"/> created <paramref name="age"/> ago (a minute by default) with this status.</summary>
    private async Task InsertAsync(string id, string status, TimeSpan? age = null, string? retryOf = null, string taskHub = "hub")
    {
        await store.InsertRunAsync(new NewRun(id, "two", 1, Definition, $$"""{"text":"{{id}}"}""", retryOf, null, TaskHub: taskHub), default);
        await using var command = database.DataSource.CreateCommand(
            "UPDATE workflow_states SET status = @status, created_at = now() - @age, updated_at = now() - @age WHERE id = @id");
        command.Parameters.AddWithValue("status", status);
        command.Parameters.AddWithValue("age", age ?? TimeSpan.FromMinutes(1));
        command.Parameters.AddWithValue("id", id);
        await command.ExecuteNonQueryAsync();
    }
}
