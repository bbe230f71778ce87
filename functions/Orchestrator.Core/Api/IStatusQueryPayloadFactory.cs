using Microsoft.AspNetCore.Http;
using Microsoft.DurableTask.Client;

namespace Orchestrator.Core.Api;

/// <summary>
/// Builds the status-query URLs for an instance. The Functions app takes them from the Durable extension (they
/// carry the host's system key); the Server points them at its own <c>/runtime/webhooks/durabletask</c> routes.
/// </summary>
public interface IStatusQueryPayloadFactory
{
    Task<StatusQueryPayload> CreateAsync(HttpRequest request, DurableTaskClient client, string instanceId);
}
