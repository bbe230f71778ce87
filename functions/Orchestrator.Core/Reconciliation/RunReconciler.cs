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
/// </summary>
public sealed class RunReconciler(WorkflowStore store, WorkflowRuns runs, IOptions<ReconcilerOptions> options, ILogger<RunReconciler> logger)
{
    public async Task<ReconcileReport> ReconcileAsync(DurableTaskClient client, CancellationToken cancellationToken)
    {
        var settings = options.Value;
        var batch = await store.TakeUnfinishedRunsAsync(client.Name, settings.MinimumAge, settings.BatchSize, cancellationToken);
        var (resumed, repaired) = (0, 0);
        foreach (var run in batch)
        {
            var instance = await client.GetInstanceAsync(run.Id, getInputsAndOutputs: true, cancellationToken);
            if (instance is null)
            {
                await client.ScheduleNewOrchestrationInstanceAsync(
                    WorkflowTaskNames.Orchestrator,
                    new WorkflowRunInput(run.Id, run.DefinitionJson, run.InputJson, run.RetryOf, runs.Outage),
                    new StartOrchestrationOptions(InstanceId: run.Id),
                    cancellationToken);
                Log.RunResumed(logger, run.Id, run.Status);
                resumed++;
                continue;
            }

            var (status, output, error) = instance.RuntimeStatus switch
            {
                OrchestrationRuntimeStatus.Completed => Outcome(instance),
                OrchestrationRuntimeStatus.Failed => (RunStatus.Failed, null, instance.FailureDetails?.ErrorMessage ?? "the orchestration failed"),
                OrchestrationRuntimeStatus.Terminated => (RunStatus.Cancelled, null, "the orchestration was terminated"),
                _ => ((string?)null, (string?)null, (string?)null),
            };
            if (status is not null && await store.FinishRunAsync(run.Id, status, output, error, cancellationToken))
            {
                Log.RunRepaired(logger, run.Id, run.Status, status);
                repaired++;
            }
        }

        return new ReconcileReport(batch.Count, resumed, repaired);
    }

    private static (string? Status, string? Output, string? Error) Outcome(OrchestrationMetadata instance)
    {
        var result = instance.ReadOutputAs<WorkflowRunResult>();
        return result is null
            ? (RunStatus.Failed, null, "the orchestration completed without a result")
            : (result.Status, result.OutputJson, null);
    }
}
