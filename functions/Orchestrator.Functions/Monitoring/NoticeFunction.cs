using Microsoft.Azure.Functions.Worker;
using Orchestrator.Core.Incidents.Notices;

namespace Orchestrator.Functions.Monitoring;

/// <summary>Delivers the notice ledger on the Functions host's timer (<c>Notices__Schedule</c>); claims keep each notice to one sender.</summary>
public sealed class NoticeFunction(NoticeDispatcher dispatcher)
{
    [Function("NoticeSender")]
    public Task RunAsync([TimerTrigger("%Notices__Schedule%")] TimerInfo timer, CancellationToken cancellationToken) =>
        dispatcher.DispatchAsync(cancellationToken);
}
