using Microsoft.DurableTask;
using Microsoft.DurableTask.Client;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Orchestrator.Core.Persistence;
using Orchestrator.Core.Workflows;

namespace Orchestrator.Core.Reconciliation;

/// <summary>
/// Keeps <c>workflow_states</c> and the durable status in agreement. A run PostgreSQL shows as Pending/Running whose
/// orchestration has ended gets the orchestration's outcome; one whose orchestration no longer exists (the task hub
/// was wiped or restored to an older point, or the process died between storing and scheduling the run) is started
/// again under the same id, and every step it had completed is reused by the step claim, never paid for again.
/// After <c>scripts/restore.sh</c> has put the database back in time, every run it shows as unfinished is restarted
/// the same way, because its orchestration is ahead of what the database recorded.
/// </summary>
public sealed class RunReconciler(
    WorkflowStore store, WorkflowRuns runs, IOptions<ReconcilerOptions> options, ILogger<RunReconciler> logger, Operations.OperationsStore? operations = null)
{
    private static readonly TimeSpan TerminateWait = TimeSpan.FromSeconds(30);

    public async Task<ReconcileReport> ReconcileAsync(DurableTaskClient client, CancellationToken cancellationToken)
    {
        var settings = options.Value;
        if (operations is not null && await operations.ClaimRestoreResyncAsync(client.Name, cancellationToken) is { } restoredAt)
        {
            await ResyncAfterRestoreAsync(client, restoredAt, cancellationToken);
        }

        var batch = await store.TakeUnfinishedRunsAsync(client.Name, settings.MinimumAge, settings.BatchSize, cancellationToken);
        var restoreEpoch = batch.Count == 0 ? null : await store.GetRestoreEpochAsync(cancellationToken);
        var (resumed, repaired) = (0, 0);
        foreach (var run in batch)
        {
            var instance = await client.GetInstanceAsync(run.Id, getInputsAndOutputs: true, cancellationToken);
            if (instance is null)
            {
                await RestartAsync(client, run, restoreEpoch, cancellationToken);
                resumed++;
            }
            else if (Outcome(instance) is { } outcome && await RepairAsync(run, outcome, cancellationToken))
            {
                repaired++;
            }
        }

        return new ReconcileReport(batch.Count, resumed, repaired);
    }

    /// <summary>
    /// After a restore: a run cancelled since the restore point stays cancelled; every other unfinished run has its
    /// orchestration (if any is still going) terminated and is started again from the steps the restored database
    /// recorded. Steps completed after the restore point run again: that is the restore's RPO.
    /// </summary>
    private async Task ResyncAfterRestoreAsync(DurableTaskClient client, string restoredAt, CancellationToken cancellationToken)
    {
        var unfinished = await store.ListUnfinishedRunsAsync(client.Name, cancellationToken);
        Log.RestoreResync(logger, restoredAt, unfinished.Count);
        var restart = new List<UnfinishedRun>();
        var terminating = new List<string>();
        foreach (var run in unfinished)
        {
            var instance = await client.GetInstanceAsync(run.Id, getInputsAndOutputs: false, cancellationToken);
            if (instance?.RuntimeStatus == OrchestrationRuntimeStatus.Terminated)
            {
                await RepairAsync(run, Outcome(instance)!.Value, cancellationToken);
                continue;
            }

            if (instance is { IsCompleted: false })
            {
                await client.TerminateInstanceAsync(run.Id, "the database was restored to an earlier point; the run restarts from its recorded steps", cancellationToken);
                terminating.Add(run.Id);
            }

            restart.Add(run);
        }

        using var wait = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        wait.CancelAfter(TerminateWait);
        foreach (var id in terminating)
        {
            try
            {
                await client.WaitForInstanceCompletionAsync(id, getInputsAndOutputs: false, wait.Token);
            }
            catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
            {
                break; // a stuck orchestration is replaced below all the same
            }
        }

        var restoreEpoch = await store.GetRestoreEpochAsync(cancellationToken);
        foreach (var run in restart)
        {
            await RestartAsync(client, run, restoreEpoch, cancellationToken);
        }
    }

    /// <summary>Starts the run's orchestration again under its id, fenced by the restore the database last went through.</summary>
    private async Task RestartAsync(DurableTaskClient client, UnfinishedRun run, string? restoreEpoch, CancellationToken cancellationToken)
    {
        await client.ScheduleNewOrchestrationInstanceAsync(
            WorkflowTaskNames.Orchestrator,
            new WorkflowRunInput(run.Id, run.DefinitionJson, run.InputJson, run.RetryOf, runs.Outage, restoreEpoch),
            new StartOrchestrationOptions(InstanceId: run.Id),
            cancellationToken);
        Log.RunResumed(logger, run.Id, run.Status);
    }

    private async Task<bool> RepairAsync(UnfinishedRun run, (string Status, string? Output, string? Error) outcome, CancellationToken cancellationToken)
    {
        var changed = await store.FinishRunAsync(run.Id, outcome.Status, outcome.Output, outcome.Error, cancellationToken);
        if (changed)
        {
            Log.RunRepaired(logger, run.Id, run.Status, outcome.Status);
        }

        return changed;
    }

    /// <summary>What an ended orchestration says the run's outcome is; null while it has not ended.</summary>
    private static (string Status, string? Output, string? Error)? Outcome(OrchestrationMetadata instance) => instance.RuntimeStatus switch
    {
        OrchestrationRuntimeStatus.Completed => instance.ReadOutputAs<WorkflowRunResult>() is { } result
            ? (result.Status, result.OutputJson, null)
            : (RunStatus.Failed, null, "the orchestration completed without a result"),
        OrchestrationRuntimeStatus.Failed => (RunStatus.Failed, null, instance.FailureDetails?.ErrorMessage ?? "the orchestration failed"),
        OrchestrationRuntimeStatus.Terminated => (RunStatus.Cancelled, null, "the orchestration was terminated"),
        _ => null,
    };
}
