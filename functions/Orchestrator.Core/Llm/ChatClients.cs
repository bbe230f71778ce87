using System.ClientModel;
using System.ClientModel.Primitives;
using Azure.Identity;
using Microsoft.Extensions.AI;
using OpenAI;
using Orchestrator.Core.Hosting;

namespace Orchestrator.Core.Llm;

/// <summary>Builds the chat client of one provider: an OpenAI-compatible endpoint, Azure OpenAI's v1 API, or the simulated one.</summary>
internal static class ChatClients
{
    /// <summary>The Entra ID scope of Azure OpenAI (Cognitive Services).</summary>
    private const string AzureOpenAiScope = "https://cognitiveservices.azure.com/.default";

    public static IChatClient Create(LlmProviderSettings provider, TimeProvider time)
    {
        IChatClient client = provider.Kind switch
        {
            LlmOptions.Simulated => new SimulatedChatClient(provider.SimulatedLatency, time),
            LlmOptions.AzureOpenAi => AzureOpenAi(provider),
            _ => OpenAi(provider),
        };
        // A span per call (model, tokens, finish reason; never the prompt) between the activity's span and the HTTP one.
        return client.AsBuilder().UseOpenTelemetry(sourceName: OrchestratorTelemetry.LlmSource).Build();
    }

    /// <summary>The model name sent on the wire: an Azure OpenAI deployment when one is configured.</summary>
    public static string WireModel(LlmProviderSettings provider, string model) =>
        provider.Kind == LlmOptions.AzureOpenAi && provider.Deployment is { Length: > 0 } deployment ? deployment : model;

    private static IChatClient OpenAi(LlmProviderSettings provider)
    {
        var options = Options(provider, provider.Endpoint);
        var key = string.IsNullOrWhiteSpace(provider.ApiKey) ? "not-needed" : provider.ApiKey;
        return new OpenAIClient(new ApiKeyCredential(key), options).GetChatClient(provider.Model).AsIChatClient();
    }

    /// <summary>Azure OpenAI's v1 API (<c>{endpoint}/openai/v1/</c>) speaks the OpenAI wire format; only authentication differs.</summary>
    private static IChatClient AzureOpenAi(LlmProviderSettings provider)
    {
        var endpoint = provider.Endpoint!.TrimEnd('/');
        if (!endpoint.EndsWith("/openai/v1", StringComparison.OrdinalIgnoreCase))
        {
            endpoint += "/openai/v1";
        }

        var options = Options(provider, endpoint + "/");
        AuthenticationPolicy authentication = provider.UseManagedIdentity
            ? new BearerTokenPolicy(
                new DefaultAzureCredential(new DefaultAzureCredentialOptions { ManagedIdentityClientId = provider.ManagedIdentityClientId }),
                AzureOpenAiScope)
            : new AzureApiKeyPolicy(provider.ApiKey!);
        // The AuthenticationPolicy constructor is marked experimental (OPENAI001); it is the SDK's only way to send
        // Azure's api-key header or an Entra ID token.
#pragma warning disable OPENAI001
        return new OpenAIClient(authentication, options).GetChatClient(WireModel(provider, provider.Model)).AsIChatClient();
#pragma warning restore OPENAI001
    }

    private static OpenAIClientOptions Options(LlmProviderSettings provider, string? endpoint)
    {
        var options = new OpenAIClientOptions
        {
            // Retries belong to Durable (they survive restarts and cost nothing while waiting).
            RetryPolicy = new ClientRetryPolicy(maxRetries: 0),
            NetworkTimeout = provider.Timeout + TimeSpan.FromSeconds(5),
        };
        if (!string.IsNullOrWhiteSpace(endpoint))
        {
            options.Endpoint = new Uri(endpoint);
        }

        return options;
    }
}
