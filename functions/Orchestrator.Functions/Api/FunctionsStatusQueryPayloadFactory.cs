using Microsoft.AspNetCore.Http;
using Microsoft.Azure.Functions.Worker;
using Microsoft.DurableTask.Client;
using Orchestrator.Core.Api;

namespace Orchestrator.Functions.Api;

/// <summary>Status-query URLs from the Durable extension itself, so they carry the Functions host's system key.</summary>
public sealed class FunctionsStatusQueryPayloadFactory(FunctionContext context) : IStatusQueryPayloadFactory
{
    public async Task<StatusQueryPayload> CreateAsync(HttpRequest request, DurableTaskClient client, string instanceId)
    {
        var requestData = await context.GetHttpRequestDataAsync()
            ?? throw new InvalidOperationException("The function was not invoked over HTTP.");
        var p = client.CreateHttpManagementPayload(instanceId, requestData);
        return new StatusQueryPayload(p.Id ?? instanceId, p.StatusQueryGetUri ?? "", p.SendEventPostUri ?? "", p.TerminatePostUri ?? "",
            p.PurgeHistoryDeleteUri ?? "", p.RestartPostUri ?? "", p.SuspendPostUri ?? "", p.ResumePostUri ?? "");
    }
}
