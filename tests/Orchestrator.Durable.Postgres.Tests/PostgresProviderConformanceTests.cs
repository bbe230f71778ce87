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
}
