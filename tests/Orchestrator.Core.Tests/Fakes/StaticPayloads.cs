using Microsoft.AspNetCore.Http;
using Microsoft.DurableTask.Client;
using Orchestrator.Core.Api;

namespace Orchestrator.Core.Tests.Fakes;

/// <summary>Status-query URLs under a fixed base, as a host would build them.</summary>
public sealed class StaticPayloads : IStatusQueryPayloadFactory
{
    public Task<StatusQueryPayload> CreateAsync(HttpRequest request, DurableTaskClient client, string instanceId)
    {
        var b = $"http://host/runtime/webhooks/durabletask/instances/{instanceId}";
        return Task.FromResult(new StatusQueryPayload(instanceId, b, b + "/raiseEvent/{eventName}", b + "/terminate", b, b + "/restart", b + "/suspend", b + "/resume"));
    }
}
