using System.ClientModel.Primitives;

namespace Orchestrator.Core.Llm;

/// <summary>Azure OpenAI's key authentication: the key goes in the <c>api-key</c> header (not as a bearer token).</summary>
internal sealed class AzureApiKeyPolicy(string key) : AuthenticationPolicy
{
    public override void Process(PipelineMessage message, IReadOnlyList<PipelinePolicy> pipeline, int currentIndex)
    {
        message.Request.Headers.Set("api-key", key);
        ProcessNext(message, pipeline, currentIndex);
    }

    public override ValueTask ProcessAsync(PipelineMessage message, IReadOnlyList<PipelinePolicy> pipeline, int currentIndex)
    {
        message.Request.Headers.Set("api-key", key);
        return ProcessNextAsync(message, pipeline, currentIndex);
    }
}
