using Microsoft.DurableTask.Client;
using Orchestrator.Core.Api;

namespace Orchestrator.Server.Durable;

/// <summary>Status-query URLs pointing at the Server's own Durable HTTP API routes.</summary>
public sealed class ServerStatusQueryPayloadFactory : IStatusQueryPayloadFactory
{
    public Task<StatusQueryPayload> CreateAsync(HttpRequest request, DurableTaskClient client, string instanceId)
    {
        var instance = $"{request.Scheme}://{request.Host}{request.PathBase}{DurableHttpApi.InstancesRoute}/{Uri.EscapeDataString(instanceId)}";
        var query = $"?taskHub={Uri.EscapeDataString(client.Name)}";
        return Task.FromResult(new StatusQueryPayload(
            instanceId,
            instance + query,
            $"{instance}/raiseEvent/{{eventName}}{query}",
            $"{instance}/terminate{query}&reason={{text}}",
            instance + query,
            $"{instance}/restart{query}",
            $"{instance}/suspend{query}&reason={{text}}",
            $"{instance}/resume{query}&reason={{text}}"));
    }
}
