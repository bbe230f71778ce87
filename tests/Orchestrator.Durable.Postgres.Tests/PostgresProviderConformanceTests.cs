using System.Collections.Concurrent;
using DurableTask.Core;
using Orchestrator.Durable.Postgres.Tests.Infrastructure;
using Xunit.Abstractions;

namespace Orchestrator.Durable.Postgres.Tests;

/// <summary>The conformance suite on <see cref="PostgresOrchestrationService"/>, and what only this provider promises.</summary>
public sealed class PostgresProviderConformanceTests(PostgresTaskHub hub, ITestOutputHelper output)
    : DurableProviderConformance(output), IClassFixture<PostgresTaskHub>
{
    protected override IOrchestrationServiceClient Client => hub.Client;

    protected override IOrchestrationService CreateService(string workerId) => hub.CreateService(workerId, LockTimeout, LoggerFactory);

    /// <summary>
    /// Postgres only: a process restarted with its worker id releases the locks its killed predecessor held as it
    /// starts, so the step runs again at once rather than when the (here one-minute) lock expires.
    /// </summary>
    [Fact]
    public async Task Postgres_only_a_worker_restarted_with_the_same_id_reruns_its_killed_predecessors_activity_at_once()
    {
        var longLock = TimeSpan.FromMinutes(1);
        var starts = new ConcurrentQueue<string>();
        var firstStarted = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var never = new TaskCompletionSource<string>(TaskCreationOptions.RunContinuationsAsynchronously);
        var doomed = new KillableOrchestrationService(hub.CreateService("restarted", longLock, LoggerFactory));
        var doomedWorker = await StartWorkerAsync(doomed, ("Work", new FuncActivity<string, string>(async _ =>
        {
            starts.Enqueue("killed");
            firstStarted.TrySetResult();
            return await never.Task;
        })));
        try
        {
            var instance = await StartAsync<SingleStep>("restarted", "work");
            await firstStarted.Task.WaitAsync(TimeSpan.FromSeconds(30));

            doomed.Kill();
            await StopWorkerAsync(doomedWorker, isForced: true);
            var restartedAt = TimeProvider.System.GetTimestamp();
            await StartWorkerAsync(hub.CreateService("restarted", longLock, LoggerFactory), ("Work", new FuncActivity<string, string>(_ =>
            {
                starts.Enqueue("restarted");
                return "done after the restart";
            })));

            var state = await WaitForEndAsync(instance, TimeSpan.FromSeconds(30));
            var took = TimeProvider.System.GetElapsedTime(restartedAt);
            Assert.Equal(OrchestrationStatus.Completed, state.OrchestrationStatus);
            Assert.Equal(["killed", "restarted"], starts);
            Assert.True(took < TimeSpan.FromSeconds(10), $"the restarted worker finished the step {took} after it started; the lock is {longLock}");
        }
        finally
        {
            never.TrySetResult("too late");
        }
    }

    /// <summary>
    /// Postgres only: work is found when it is queued (LISTEN/NOTIFY) and a timer when it falls due, not at the next
    /// poll. With a one-minute poll, three chained steps and a two-second timer each finish in seconds; were either
    /// wake-up missing, each transition would wait up to a minute.
    /// </summary>
    [Fact]
    public async Task Postgres_only_a_queued_message_and_a_due_timer_wake_an_idle_worker_long_before_its_poll()
    {
        var poll = TimeSpan.FromMinutes(1);
        await StartWorkerAsync(hub.CreateService("listening", LockTimeout, LoggerFactory, poll));
        await Task.Delay(TimeSpan.FromSeconds(1)); // the worker has looked once, found nothing and is waiting

        var started = TimeProvider.System.GetTimestamp();
        var chain = await WaitForEndAsync(await StartAsync<Chain>("woken", 3), TimeSpan.FromSeconds(20));
        var chainTook = TimeProvider.System.GetElapsedTime(started);
        Assert.Equal(OrchestrationStatus.Completed, chain.OrchestrationStatus);
        Assert.Equal(64, Output<int>(chain));
        Assert.True(chainTook < TimeSpan.FromSeconds(10), $"3 chained steps took {chainTook} with a poll of {poll}");

        var timer = await WaitForEndAsync(await StartAsync<Sleep>("woken-timer", 2), TimeSpan.FromSeconds(20));
        var report = Output<TimerReport>(timer);
        Assert.InRange(report.FiredAt - report.FireAt, TimeSpan.Zero, TimeSpan.FromSeconds(3));
    }
}
