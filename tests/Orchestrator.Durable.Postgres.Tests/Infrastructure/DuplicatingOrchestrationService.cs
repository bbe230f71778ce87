using DurableTask.Core;
using DurableTask.Core.History;

namespace Orchestrator.Durable.Postgres.Tests.Infrastructure;

/// <summary>
/// Delivers the result of the activity named <paramref name="activityName"/> twice: completed as usual, then the
/// same response message sent again through the client, as an at-least-once queue may redeliver it.
/// </summary>
internal sealed class DuplicatingOrchestrationService(IOrchestrationService inner, IOrchestrationServiceClient client, string activityName)
    : DelegatingOrchestrationService(inner)
{
    public override async Task CompleteTaskActivityWorkItemAsync(TaskActivityWorkItem workItem, TaskMessage responseMessage)
    {
        await base.CompleteTaskActivityWorkItemAsync(workItem, responseMessage);
        if (workItem.TaskMessage.Event is TaskScheduledEvent { Name: var name } && name == activityName)
        {
            await client.SendTaskOrchestrationMessageAsync(responseMessage);
        }
    }
}
