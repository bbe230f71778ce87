using System.Collections.Concurrent;
using System.Globalization;
using System.Text.Json;
using DurableTask.Core;
using DurableTask.Core.Exceptions;
using DurableTask.Core.History;
using DurableTask.Core.Query;
using DurableTask.Core.Serializing;
using Microsoft.Extensions.Logging;
using Orchestrator.Durable.Postgres.Tests.Infrastructure;
using Xunit.Abstractions;

namespace Orchestrator.Durable.Postgres.Tests;

/// <summary>
/// What any DurableTask.Core provider the product runs on must do, asserted once: each backend is a small subclass
/// giving a fresh store per class and a new service per worker. Every test starts the workers it needs and waits,
/// with a limit, for what it asserts.
/// </summary>
public abstract partial class DurableProviderConformance(ITestOutputHelper output) : IAsyncLifetime
{
    /// <summary>The lock (visibility) timeout of every worker: how long a killed worker's work stays hidden.</summary>
    protected static readonly TimeSpan LockTimeout = TimeSpan.FromSeconds(5);

    private static readonly TimeSpan WaitLimit = TimeSpan.FromSeconds(60);
    private static readonly TimeSpan Poll = TimeSpan.FromMilliseconds(100);

    // How late a timer may fire: the providers' idle poll is one second; the rest is a loaded two-core machine.
    private static readonly TimeSpan TimerLateness = TimeSpan.FromSeconds(5);

    private const string Increment = "Increment";
    private const string Twice = "Twice";
    private const string Square = "Square";

    private static readonly (string Name, TaskActivity Activity)[] Arithmetic =
    [
        (Increment, new FuncActivity<int, int>(n => n + 1)),
        (Twice, new FuncActivity<int, int>(n => n * 2)),
        (Square, new FuncActivity<int, int>(n => n * n)),
    ];

    private readonly List<(TaskHubWorker Worker, IOrchestrationService Service)> workers = [];
    private TaskHubClient? hub;

    /// <summary>How early a provider may fire a timer: none, unless a subclass says why its store cannot do better.</summary>
    protected virtual TimeSpan TimerEarliness => TimeSpan.Zero;

    protected ILoggerFactory LoggerFactory { get; } = new TestOutputLoggerFactory(output);

    /// <summary>A new service over the class's store, for one worker.</summary>
    protected abstract IOrchestrationService CreateService(string workerId);

    /// <summary>The service the client side (start, raise, query, purge) goes through.</summary>
    protected abstract IOrchestrationServiceClient Client { get; }

    private TaskHubClient Hub => hub ??= new TaskHubClient(Client, loggerFactory: LoggerFactory);

    private IOrchestrationServiceQueryClient Query => (IOrchestrationServiceQueryClient)Client;

    private IOrchestrationServicePurgeClient Purge => (IOrchestrationServicePurgeClient)Client;

    private static DateTimeOffset Now => TimeProvider.System.GetUtcNow();

    // ---- 1, 2: activities ---------------------------------------------------------------------------------------

    [Fact]
    public async Task A_sequence_of_activities_chains_their_outputs_and_completes()
    {
        await StartWorkerAsync("sequence");

        var instance = await StartAsync<Chain>("sequence", 3);

        var state = await WaitForEndAsync(instance);
        Assert.Equal(OrchestrationStatus.Completed, state.OrchestrationStatus);
        Assert.Equal(64, Output<int>(state));
    }

    [Fact]
    public async Task Twenty_activities_fanned_out_in_parallel_are_each_run_once_and_fanned_in()
    {
        var runs = new ConcurrentDictionary<int, int>();
        await StartWorkerAsync("fan-out", (Square, new FuncActivity<int, int>(n =>
        {
            runs.AddOrUpdate(n, 1, (_, count) => count + 1);
            return n * n;
        })));

        var instance = await StartAsync<FanOut>("fan-out", 20);

        var state = await WaitForEndAsync(instance);
        Assert.Equal(OrchestrationStatus.Completed, state.OrchestrationStatus);
        Assert.Equal(Enumerable.Range(1, 20).Sum(n => n * n), Output<int>(state));
        Assert.Equal(Enumerable.Range(1, 20), runs.Keys.Order());
        Assert.All(runs, run => Assert.Equal(1, run.Value));
    }

    [Fact]
    public async Task An_orchestration_whose_step_throws_ends_as_failed_with_the_steps_error_as_its_output()
    {
        await StartWorkerAsync("fails", ("Work", new FuncActivity<string, string>(string (_) => throw new InvalidOperationException("the step broke"))));

        var instance = await StartAsync<SingleStep>("fails", "work");

        var state = await WaitForEndAsync(instance);
        Assert.Equal(OrchestrationStatus.Failed, state.OrchestrationStatus);
        Assert.Contains("the step broke", state.Output, StringComparison.Ordinal);

        // The PostgreSQL provider also returns the failure details; the Azure Storage provider returns none.
        if (state.FailureDetails is { } details)
        {
            Assert.Equal(typeof(TaskFailedException).FullName, details.ErrorType);
            Assert.Contains("the step broke", details.ErrorMessage, StringComparison.Ordinal);
        }
    }

    // ---- 3: durable timers --------------------------------------------------------------------------------------

    [Fact]
    public async Task A_durable_timer_fires_at_its_due_time_and_not_much_after()
    {
        await StartWorkerAsync("timer");

        var instance = await StartAsync<Sleep>("timer", 2);

        var state = await WaitForEndAsync(instance);
        Assert.Equal(OrchestrationStatus.Completed, state.OrchestrationStatus);
        var report = Output<TimerReport>(state);

        // Never before it is due, but for the earliness a provider's store imposes (TimerEarliness).
        Assert.InRange(report.FiredAt - report.FireAt, -TimerEarliness, TimerLateness);
    }

    [Fact]
    public async Task A_timer_that_fell_due_while_no_worker_ran_fires_once_a_worker_starts()
    {
        var first = await StartWorkerAsync("timer-first");
        var instance = await StartAsync<Sleep>("timer-offline", 6);
        var sleeping = await WaitForStateAsync(instance.InstanceId, s => s.OrchestrationStatus == OrchestrationStatus.Running && CustomStatus(s) is not null, "its timer set");
        var fireAt = new DateTimeOffset(DateTime.Parse(CustomStatus(sleeping)!, CultureInfo.InvariantCulture, DateTimeStyles.RoundtripKind));

        await StopWorkerAsync(first);
        Assert.True(Now < fireAt, $"the worker took until {Now:O} to stop, after the timer was due ({fireAt:O}); the drill did not happen");
        await Task.Delay(fireAt - Now + TimeSpan.FromSeconds(1));
        Assert.Equal(OrchestrationStatus.Running, (await StateAsync(instance.InstanceId))!.OrchestrationStatus);

        var restartedAt = Now;
        await StartWorkerAsync("timer-second");

        var state = await WaitForEndAsync(instance);
        Assert.Equal(OrchestrationStatus.Completed, state.OrchestrationStatus);
        var report = Output<TimerReport>(state);
        Assert.True(report.FiredAt >= restartedAt.UtcDateTime, $"fired at {report.FiredAt:O}, before the second worker started ({restartedAt:O})");
        Assert.InRange(report.FiredAt - restartedAt.UtcDateTime, TimeSpan.Zero, WaitLimit);
    }

    // ---- 4, 5: external events, custom status -------------------------------------------------------------------

    [Fact]
    public async Task An_event_raised_before_the_orchestration_waits_for_it_is_kept_until_it_does()
    {
        var working = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var finish = new TaskCompletionSource<string>(TaskCreationOptions.RunContinuationsAsynchronously);
        await StartWorkerAsync("event-early", ("Work", new FuncActivity<string, string>(async _ =>
        {
            working.TrySetResult();
            return await finish.Task;
        })));
        var instance = await StartAsync<StepThenApproval>("event-early", "go");

        try
        {
            await working.Task.WaitAsync(WaitLimit);
            await Hub.RaiseEventAsync(instance, "approval", "early");
            await WaitForHistoryAsync(instance.InstanceId, h => h.Any(e => e.Type == EventType.EventRaised), "the event in its history");
        }
        finally
        {
            finish.TrySetResult("worked");
        }

        var state = await WaitForEndAsync(instance);
        Assert.Equal(OrchestrationStatus.Completed, state.OrchestrationStatus);
        Assert.Equal("early", Output<string>(state));
        var history = await HistoryAsync(instance.InstanceId);
        Assert.True(
            history.FindIndex(e => e.Type == EventType.EventRaised) < history.FindIndex(e => e.Type == EventType.TaskCompleted),
            "the event arrived after the step it was meant to precede");
    }

    [Fact]
    public async Task An_event_raised_before_the_instance_first_ran_is_delivered_when_it_runs()
    {
        var instance = await StartAsync<Approval>("event-first", string.Empty);
        await Hub.RaiseEventAsync(instance, "approval", "before the start");
        Assert.Equal(OrchestrationStatus.Pending, (await StateAsync(instance.InstanceId))?.OrchestrationStatus);

        await StartWorkerAsync("event-first");

        var state = await WaitForEndAsync(instance);
        Assert.Equal(OrchestrationStatus.Completed, state.OrchestrationStatus);
        Assert.Equal("before the start", Output<string>(state));
    }

    [Fact]
    public async Task An_event_raised_while_the_orchestration_waits_for_it_resumes_it()
    {
        await StartWorkerAsync("event-late");
        var instance = await StartAsync<Approval>("event-late", string.Empty);
        await WaitForStateAsync(instance.InstanceId, IsWaitingForApproval, "waiting for approval");

        await Hub.RaiseEventAsync(instance, "approval", "late");

        var state = await WaitForEndAsync(instance);
        Assert.Equal(OrchestrationStatus.Completed, state.OrchestrationStatus);
        Assert.Equal("late", Output<string>(state));
    }

    [Fact]
    public async Task The_custom_status_an_orchestration_sets_is_visible_while_it_runs_and_after_it_ends()
    {
        await StartWorkerAsync("custom-status");
        var instance = await StartAsync<Approval>("custom-status", string.Empty);

        var running = await WaitForStateAsync(instance.InstanceId, s => CustomStatus(s) is not null, "a custom status");
        Assert.Equal(OrchestrationStatus.Running, running.OrchestrationStatus);
        Assert.Equal("waiting", CustomStatus(running));

        await Hub.RaiseEventAsync(instance, "approval", "yes");
        var ended = await WaitForEndAsync(instance);
        Assert.Equal("approved: yes", CustomStatus(ended));
    }

    [Fact]
    public async Task A_custom_status_the_orchestration_clears_reads_as_none()
    {
        await StartWorkerAsync("custom-status-cleared");
        var instance = await StartAsync<ClearsStatusWhenApproved>("custom-status-cleared", string.Empty);
        await WaitForStateAsync(instance.InstanceId, IsWaitingForApproval, "waiting for approval");

        await Hub.RaiseEventAsync(instance, "approval", "yes");

        var ended = await WaitForEndAsync(instance);
        Assert.Equal(OrchestrationStatus.Completed, ended.OrchestrationStatus);
        Assert.Null(CustomStatus(ended));
    }

    [Fact]
    public async Task An_instances_created_time_stays_what_it_was_when_it_was_created()
    {
        var instance = await StartAsync<Chain>("created-time", 1);
        var pending = (await StateAsync(instance.InstanceId))!;
        await StartWorkerAsync("created-time");

        var ended = await WaitForEndAsync(instance);

        Assert.Equal(OrchestrationStatus.Pending, pending.OrchestrationStatus);
        Assert.Equal(OrchestrationStatus.Completed, ended.OrchestrationStatus);
        Assert.Equal(pending.CreatedTime, ended.CreatedTime);
    }

    // ---- 6, 7: terminate, suspend and resume --------------------------------------------------------------------

    [Fact]
    public async Task Terminating_a_waiting_instance_ends_it_as_terminated_with_the_reason_as_output()
    {
        await StartWorkerAsync("terminate");
        var instance = await StartAsync<Approval>("terminate", string.Empty);
        await WaitForStateAsync(instance.InstanceId, IsWaitingForApproval, "waiting for approval");

        await Hub.TerminateInstanceAsync(instance, "cancelled by the operator");

        var state = await WaitForEndAsync(instance);
        Assert.Equal(OrchestrationStatus.Terminated, state.OrchestrationStatus);
        Assert.Equal("cancelled by the operator", state.Output);
    }

    [Fact]
    public async Task A_suspended_instance_takes_in_an_event_without_acting_on_it_until_it_is_resumed()
    {
        await StartWorkerAsync("suspend");
        var instance = await StartAsync<Approval>("suspend", string.Empty);
        await WaitForStateAsync(instance.InstanceId, IsWaitingForApproval, "waiting for approval");

        await Hub.SuspendInstanceAsync(instance, "maintenance");
        await WaitForStateAsync(instance.InstanceId, s => s.OrchestrationStatus == OrchestrationStatus.Suspended, "Suspended");
        await Hub.RaiseEventAsync(instance, "approval", "while suspended");
        await WaitForHistoryAsync(instance.InstanceId, h => h.Any(e => e.Type == EventType.EventRaised), "the event in its history");

        var suspended = (await StateAsync(instance.InstanceId))!;
        Assert.Equal(OrchestrationStatus.Suspended, suspended.OrchestrationStatus);
        Assert.Equal("waiting", CustomStatus(suspended));

        await Hub.ResumeInstanceAsync(instance, "maintenance over");

        var state = await WaitForEndAsync(instance);
        Assert.Equal(OrchestrationStatus.Completed, state.OrchestrationStatus);
        Assert.Equal("while suspended", Output<string>(state));
    }

    // ---- 8: purge -----------------------------------------------------------------------------------------------

    [Fact]
    public async Task Purging_an_ended_instance_removes_its_state_and_history()
    {
        await StartWorkerAsync("purge-one");
        var instance = await StartAsync<Chain>("purge-one", 1);
        await WaitForEndAsync(instance);

        var result = await Purge.PurgeInstanceStateAsync(instance.InstanceId);

        Assert.Equal(1, result.DeletedInstanceCount);
        Assert.Null(await StateAsync(instance.InstanceId));
        Assert.Empty(await HistoryAsync(instance.InstanceId));
    }

    /// <summary>
    /// The providers differ here: PostgreSQL leaves a running instance alone, Azure Storage deletes it. Either way the
    /// result says which happened, and nothing is left half-purged.
    /// </summary>
    [Fact]
    public async Task Purging_a_running_instance_leaves_it_whole_or_removes_it_whole_and_says_which()
    {
        await StartWorkerAsync("purge-running");
        var instance = await StartAsync<Approval>("purge-running", string.Empty);
        await WaitForStateAsync(instance.InstanceId, IsWaitingForApproval, "waiting for approval");

        var result = await Purge.PurgeInstanceStateAsync(instance.InstanceId);

        Assert.InRange(result.DeletedInstanceCount, 0, 1);
        if (result.DeletedInstanceCount == 1)
        {
            Assert.Null(await StateAsync(instance.InstanceId));
            Assert.Empty(await HistoryAsync(instance.InstanceId));
        }
        else
        {
            Assert.Equal(OrchestrationStatus.Running, (await StateAsync(instance.InstanceId))?.OrchestrationStatus);
            await Hub.RaiseEventAsync(instance, "approval", "still here");
            Assert.Equal("still here", Output<string>(await WaitForEndAsync(instance)));
        }
    }

    [Fact]
    public async Task Purging_by_filter_removes_the_ended_instances_created_in_the_window_and_leaves_a_running_one()
    {
        await StartWorkerAsync("purge-filter");
        var ended = new List<OrchestrationInstance>();
        for (var i = 0; i < 3; i++)
        {
            ended.Add(await StartAsync<Chain>("purge-filter", i));
        }

        var running = await StartAsync<Approval>("purge-filter-running", string.Empty);
        foreach (var instance in ended)
        {
            await WaitForEndAsync(instance);
        }

        await WaitForStateAsync(running.InstanceId, IsWaitingForApproval, "waiting for approval");
        var from = (await StateAsync(ended[0].InstanceId))!.CreatedTime;

        var result = await Purge.PurgeInstanceStateAsync(new PurgeInstanceFilter(from, null, [OrchestrationStatus.Completed]));

        Assert.Equal(3, result.DeletedInstanceCount);
        foreach (var instance in ended)
        {
            Assert.Null(await StateAsync(instance.InstanceId));
        }

        Assert.Equal(OrchestrationStatus.Running, (await StateAsync(running.InstanceId))?.OrchestrationStatus);
    }

    // ---- 9: listing ---------------------------------------------------------------------------------------------

    [Fact]
    public async Task Listing_filters_by_status_and_by_instance_id_prefix()
    {
        await StartWorkerAsync("list-status");
        var prefix = $"list-status-{Guid.NewGuid():N}-";
        var done = new List<OrchestrationInstance>();
        var waiting = new List<OrchestrationInstance>();
        for (var i = 0; i < 3; i++)
        {
            done.Add(await Hub.CreateOrchestrationInstanceAsync(typeof(Chain), $"{prefix}done-{i}", i));
        }

        for (var i = 0; i < 2; i++)
        {
            waiting.Add(await Hub.CreateOrchestrationInstanceAsync(typeof(Approval), $"{prefix}waiting-{i}", string.Empty));
        }

        foreach (var instance in done)
        {
            await WaitForEndAsync(instance);
        }

        foreach (var instance in waiting)
        {
            await WaitForStateAsync(instance.InstanceId, IsWaitingForApproval, "waiting for approval");
        }

        Assert.Equal(Ids(waiting), await ListAsync(new OrchestrationQuery { InstanceIdPrefix = prefix, RuntimeStatus = [OrchestrationStatus.Running] }));
        Assert.Equal(Ids(done), await ListAsync(new OrchestrationQuery { InstanceIdPrefix = prefix, RuntimeStatus = [OrchestrationStatus.Completed] }));
        Assert.Equal(Ids(done), await ListAsync(new OrchestrationQuery { InstanceIdPrefix = prefix + "done-" }));
        Assert.Equal(Ids([.. done, .. waiting]), await ListAsync(new OrchestrationQuery { InstanceIdPrefix = prefix }));
    }

    [Fact]
    public async Task Listing_filters_by_created_time_inclusively()
    {
        var prefix = $"list-created-{Guid.NewGuid():N}-";
        var earlier = await CreatePendingAsync(prefix, "a", 3);
        var earlierStates = await Task.WhenAll(earlier.Select(i => StateAsync(i.InstanceId)));
        var later = await CreatePendingAsync(prefix, "b", 3);
        var laterStates = await Task.WhenAll(later.Select(i => StateAsync(i.InstanceId)));
        var lastEarlier = earlierStates.Max(s => s!.CreatedTime);
        var firstLater = laterStates.Min(s => s!.CreatedTime);
        Assert.True(lastEarlier < firstLater, $"the two batches were created at the same time ({lastEarlier:O}); the drill did not happen");

        Assert.Equal(Ids(later), await ListAsync(new OrchestrationQuery { InstanceIdPrefix = prefix, CreatedTimeFrom = firstLater }));
        Assert.Equal(Ids(earlier), await ListAsync(new OrchestrationQuery { InstanceIdPrefix = prefix, CreatedTimeTo = lastEarlier }));
        Assert.Equal(
            Ids([.. earlier, .. later]),
            await ListAsync(new OrchestrationQuery { InstanceIdPrefix = prefix, CreatedTimeFrom = earlierStates.Min(s => s!.CreatedTime), CreatedTimeTo = laterStates.Max(s => s!.CreatedTime) }));
    }

    [Fact]
    public async Task Listing_page_by_page_returns_every_instance_exactly_once()
    {
        var prefix = $"list-pages-{Guid.NewGuid():N}-";
        var created = await CreatePendingAsync(prefix, "p", 9);

        var seen = new List<string>();
        var pages = 0;
        string? token = null;
        do
        {
            var page = await Query.GetOrchestrationWithQueryAsync(
                new OrchestrationQuery { InstanceIdPrefix = prefix, PageSize = 4, ContinuationToken = token }, CancellationToken.None);
            Assert.InRange(page.OrchestrationState.Count, 0, 4);
            seen.AddRange(page.OrchestrationState.Select(s => s.OrchestrationInstance.InstanceId));
            token = page.ContinuationToken;
            Assert.InRange(++pages, 1, 20);
        }
        while (!string.IsNullOrEmpty(token));

        Assert.True(pages >= 3, $"9 instances in pages of 4 came in {pages} page(s)");
        Assert.Equal(seen.Count, seen.Distinct(StringComparer.Ordinal).Count());
        Assert.Equal(Ids(created), seen.Order(StringComparer.Ordinal));
    }

    // ---- 10: competing workers ----------------------------------------------------------------------------------

    [Fact]
    public async Task Three_workers_on_one_store_complete_fifty_orchestrations_running_each_step_once()
    {
        var runs = new ConcurrentDictionary<string, int>(StringComparer.Ordinal);
        var ranOn = new ConcurrentDictionary<string, int>(StringComparer.Ordinal);
        await Task.WhenAll(new[] { "competing-1", "competing-2", "competing-3" }.Select(workerId =>
            StartWorkerAsync(workerId, ("Step", new FuncActivity<string, string>(step =>
            {
                runs.AddOrUpdate(step, 1, (_, count) => count + 1);
                ranOn.AddOrUpdate(workerId, 1, (_, count) => count + 1);
                return step;
            })))));

        var instances = await Task.WhenAll(Enumerable.Range(0, 50).Select(_ => StartAsync<ThreeSteps>("competing", 0)));

        foreach (var instance in instances)
        {
            var state = await WaitForEndAsync(instance, TimeSpan.FromMinutes(3));
            Assert.Equal(OrchestrationStatus.Completed, state.OrchestrationStatus);
        }

        var expected = instances.SelectMany(i => Enumerable.Range(1, 3).Select(step => $"{i.InstanceId}/{step}")).Order(StringComparer.Ordinal);
        Assert.Equal(expected, runs.Keys.Order(StringComparer.Ordinal));
        Assert.All(runs, run => Assert.Equal(1, run.Value));
        Assert.True(ranOn.Count >= 2, $"every step ran on {string.Join(", ", ranOn.Keys)}: the workers did not compete");
    }

    // ---- 11: killed workers -------------------------------------------------------------------------------------

    [Fact]
    public async Task An_activity_whose_worker_was_killed_runs_again_on_another_worker_once_its_lock_expires()
    {
        var starts = new ConcurrentQueue<(string Worker, DateTimeOffset At)>();
        var firstStarted = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var never = new TaskCompletionSource<string>(TaskCreationOptions.RunContinuationsAsynchronously);
        var doomed = new KillableOrchestrationService(CreateService("killed"));
        var doomedWorker = await StartWorkerAsync(doomed, ("Work", new FuncActivity<string, string>(async _ =>
        {
            starts.Enqueue(("killed", Now));
            firstStarted.TrySetResult();
            return await never.Task;
        })));
        try
        {
            var instance = await StartAsync<SingleStep>("killed-activity", "work");
            await firstStarted.Task.WaitAsync(WaitLimit);

            doomed.Kill();
            await StopWorkerAsync(doomedWorker, isForced: true);
            await StartWorkerAsync("successor", ("Work", new FuncActivity<string, string>(_ =>
            {
                starts.Enqueue(("successor", Now));
                return "done by the successor";
            })));

            var state = await WaitForEndAsync(instance);
            Assert.Equal(OrchestrationStatus.Completed, state.OrchestrationStatus);
            Assert.Equal("done by the successor", Output<string>(state));
            var runs = starts.ToArray();
            Assert.Equal(["killed", "successor"], runs.Select(r => r.Worker));
            Assert.True(
                runs[1].At - runs[0].At >= LockTimeout - TimeSpan.FromMilliseconds(500),
                $"the successor took the step {runs[1].At - runs[0].At} after the killed worker did, before its lock ({LockTimeout}) expired");
        }
        finally
        {
            never.TrySetResult("too late");
        }
    }

    [Fact]
    public async Task An_episode_whose_worker_died_before_saving_it_is_run_again_elsewhere_and_leaves_no_trace()
    {
        var runs = new ConcurrentDictionary<string, int>(StringComparer.Ordinal);
        var work = ("Work", (TaskActivity)new FuncActivity<string, string>(input =>
        {
            runs.AddOrUpdate(input, 1, (_, count) => count + 1);
            return input;
        }));
        var doomed = new KillableOrchestrationService(CreateService("dies-saving")) { DieBeforeSavingAnEpisode = true };
        var doomedWorker = await StartWorkerAsync(doomed, work);
        var instance = await StartAsync<SingleStep>("killed-episode", "once");

        await doomed.Killed.WaitAsync(WaitLimit);
        await StopWorkerAsync(doomedWorker, isForced: true);
        await StartWorkerAsync("successor-of-dead-episode", work);

        var state = await WaitForEndAsync(instance);
        Assert.Equal(OrchestrationStatus.Completed, state.OrchestrationStatus);
        Assert.Equal("once", Output<string>(state));
        Assert.Equal(1, runs.GetValueOrDefault("once"));
    }

    // ---- 12, 13: duplicated messages, large payloads ------------------------------------------------------------

    [Fact]
    public async Task An_activity_result_delivered_twice_completes_the_orchestration_once_with_the_right_output()
    {
        var echoes = 0;
        var records = 0;
        var service = CreateService("duplicating");
        await StartWorkerAsync(
            new DuplicatingOrchestrationService(service, (IOrchestrationServiceClient)service, "Echo"),
            ("Echo", new FuncActivity<string, string>(input =>
            {
                Interlocked.Increment(ref echoes);
                return input + "!";
            })),
            ("Record", new FuncActivity<string, string>(input =>
            {
                Interlocked.Increment(ref records);
                return input;
            })));
        var instance = await StartAsync<EchoRecordThenFinish>("duplicate", "hello");

        // Both copies of Echo's result have reached the orchestration, which now waits for "finish".
        await WaitForHistoryAsync(instance.InstanceId, h => h.Count(e => e.Type == EventType.TaskCompleted && e.TaskScheduledId == 0) == 2, "the result twice in its history");
        await WaitForStateAsync(instance.InstanceId, s => CustomStatus(s) == "recorded", "its record made");
        await Hub.RaiseEventAsync(instance, "finish", string.Empty);

        var state = await WaitForEndAsync(instance);
        Assert.Equal(OrchestrationStatus.Completed, state.OrchestrationStatus);
        Assert.Equal("hello!", Output<string>(state));
        Assert.Equal(1, echoes);
        Assert.Equal(1, records);
    }

    [Fact]
    public async Task A_one_megabyte_input_and_a_one_megabyte_activity_output_round_trip_intact()
    {
        var input = RandomText(1 << 20, seed: 13);
        var expected = new string(input.Reverse().ToArray());
        string? received = null;
        await StartWorkerAsync("payloads", ("Work", new FuncActivity<string, string>(text =>
        {
            received = text;
            return new string(text.Reverse().ToArray());
        })));

        var instance = await StartAsync<SingleStep>("payload", input);

        var state = await WaitForEndAsync(instance);
        Assert.Equal(OrchestrationStatus.Completed, state.OrchestrationStatus);
        Assert.True(received == input, $"the activity received {received?.Length} characters, not the 1 MB input");
        var output = Output<string>(state);
        Assert.True(output == expected, $"the output is {output?.Length} characters, not the activity's 1 MB result");
        var storedInput = JsonDataConverter.Default.Deserialize<string>(state.Input);
        Assert.True(storedInput == input, $"the stored input is {storedInput?.Length} characters, not the 1 MB input");
    }

    // ---- workers ------------------------------------------------------------------------------------------------

    protected Task<TaskHubWorker> StartWorkerAsync(string workerId, params (string Name, TaskActivity Activity)[] activities) =>
        StartWorkerAsync(CreateService(workerId), activities);

    /// <summary>A worker on <paramref name="service"/> with every orchestration, the arithmetic activities and <paramref name="activities"/>; stopped after the test.</summary>
    protected async Task<TaskHubWorker> StartWorkerAsync(IOrchestrationService service, params (string Name, TaskActivity Activity)[] activities)
    {
        await service.CreateIfNotExistsAsync();
        // As the Server runs it: failures travel as FailureDetails.
        var worker = new TaskHubWorker(service, LoggerFactory) { ErrorPropagationMode = ErrorPropagationMode.UseFailureDetails };
        worker.AddTaskOrchestrations(Orchestrations);
        var named = Arithmetic.Where(a => !activities.Any(b => b.Name == a.Name)).Concat(activities);
        worker.AddTaskActivities([.. named.Select(a => new NameValueObjectCreator<TaskActivity>(a.Name, string.Empty, a.Activity))]);
        workers.Add((worker, service));
        await worker.StartAsync();
        return worker;
    }

    /// <summary>Stops a worker: gracefully (its locks released, what it holds finished), or at once.</summary>
    protected async Task StopWorkerAsync(TaskHubWorker worker, bool isForced = false)
    {
        var index = workers.FindIndex(w => ReferenceEquals(w.Worker, worker));
        var service = workers[index].Service;
        workers.RemoveAt(index);
        await worker.StopAsync(isForced);
        await DelegatingOrchestrationService.DisposeServiceAsync(service);
    }

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync()
    {
        foreach (var (worker, _) in workers.ToArray())
        {
            await StopWorkerAsync(worker, isForced: true);
        }
    }

    // ---- instances ----------------------------------------------------------------------------------------------

    protected Task<OrchestrationInstance> StartAsync<TOrchestration>(string name, object input)
        where TOrchestration : TaskOrchestration =>
        Hub.CreateOrchestrationInstanceAsync(typeof(TOrchestration), $"{name}-{Guid.NewGuid():N}", input);

    /// <summary><paramref name="count"/> instances of <see cref="Chain"/> with ids under <paramref name="prefix"/>, created one after the other.</summary>
    private async Task<List<OrchestrationInstance>> CreatePendingAsync(string prefix, string batch, int count)
    {
        var created = new List<OrchestrationInstance>();
        for (var i = 0; i < count; i++)
        {
            created.Add(await Hub.CreateOrchestrationInstanceAsync(typeof(Chain), $"{prefix}{batch}-{i}", i));
        }

        return created;
    }

    protected Task<OrchestrationState?> StateAsync(string instanceId) => Client.GetOrchestrationStateAsync(instanceId, executionId: null)!;

    protected Task<OrchestrationState> WaitForEndAsync(OrchestrationInstance instance, TimeSpan? limit = null) =>
        WaitForStateAsync(
            instance.InstanceId,
            s => s.OrchestrationStatus is OrchestrationStatus.Completed or OrchestrationStatus.Failed or OrchestrationStatus.Terminated or OrchestrationStatus.Canceled,
            "an end",
            limit);

    protected async Task<OrchestrationState> WaitForStateAsync(string instanceId, Func<OrchestrationState, bool> until, string what, TimeSpan? limit = null)
    {
        var started = TimeProvider.System.GetTimestamp();
        while (true)
        {
            var state = await StateAsync(instanceId);
            if (state is not null && until(state))
            {
                return state;
            }

            if (TimeProvider.System.GetElapsedTime(started) > (limit ?? WaitLimit))
            {
                Assert.Fail($"{instanceId} did not reach {what} within {limit ?? WaitLimit}; last seen: {Describe(state)}");
            }

            await Task.Delay(Poll);
        }
    }

    private async Task WaitForHistoryAsync(string instanceId, Func<List<(EventType Type, int? TaskScheduledId)>, bool> until, string what)
    {
        var started = TimeProvider.System.GetTimestamp();
        while (!until(await HistoryAsync(instanceId)))
        {
            if (TimeProvider.System.GetElapsedTime(started) > WaitLimit)
            {
                Assert.Fail($"{instanceId} did not show {what} within {WaitLimit}; last seen: {Describe(await StateAsync(instanceId))}");
            }

            await Task.Delay(Poll);
        }
    }

    /// <summary>The current execution's history, as each provider's JSON gives it: each event's type and the task it answers.</summary>
    private async Task<List<(EventType Type, int? TaskScheduledId)>> HistoryAsync(string instanceId)
    {
        var json = await Client.GetOrchestrationHistoryAsync(instanceId, executionId: null);
        using var document = JsonDocument.Parse(string.IsNullOrWhiteSpace(json) ? "[]" : json);
        return
        [
            .. document.RootElement.EnumerateArray().Select(e => (
                e.GetProperty("EventType") is { ValueKind: JsonValueKind.String } name ? Enum.Parse<EventType>(name.GetString()!) : (EventType)e.GetProperty("EventType").GetInt32(),
                e.TryGetProperty("TaskScheduledId", out var task) ? task.GetInt32() : (int?)null)),
        ];
    }

    /// <summary>Every instance the query matches, page after page, in id order.</summary>
    private async Task<List<string>> ListAsync(OrchestrationQuery query)
    {
        var ids = new List<string>();
        do
        {
            var page = await Query.GetOrchestrationWithQueryAsync(query, CancellationToken.None);
            ids.AddRange(page.OrchestrationState.Select(s => s.OrchestrationInstance.InstanceId));
            query.ContinuationToken = page.ContinuationToken;
        }
        while (!string.IsNullOrEmpty(query.ContinuationToken));

        return [.. ids.Order(StringComparer.Ordinal)];
    }

    private static List<string> Ids(IEnumerable<OrchestrationInstance> instances) => [.. instances.Select(i => i.InstanceId).Order(StringComparer.Ordinal)];

    private static bool IsWaitingForApproval(OrchestrationState state) =>
        state.OrchestrationStatus == OrchestrationStatus.Running && CustomStatus(state) == "waiting";

    /// <summary>
    /// The custom status as the orchestration set it. A status never set or cleared comes back as no value from one
    /// provider and as the JSON <c>null</c> from the other (Azure Storage); both read as none.
    /// </summary>
    private static string? CustomStatus(OrchestrationState state) =>
        state.Status is null ? null : JsonDataConverter.Default.Deserialize<string>(state.Status);

    private protected static T Output<T>(OrchestrationState state) => JsonDataConverter.Default.Deserialize<T>(state.Output);

    private static string Describe(OrchestrationState? state) =>
        state is null ? "no instance" : $"{state.OrchestrationStatus}, custom status {state.Status ?? "none"}, output {state.Output?[..Math.Min(state.Output.Length, 300)] ?? "none"}";

    private static string RandomText(int length, int seed)
    {
        const string alphabet = "abcdefghijklmnopqrstuvwxyz0123456789";
        var random = new Random(seed);
        return string.Create(length, random, (chars, r) =>
        {
            for (var i = 0; i < chars.Length; i++)
            {
                chars[i] = alphabet[r.Next(alphabet.Length)];
            }
        });
    }
}
