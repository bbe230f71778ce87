using System.ClientModel;
using System.ClientModel.Primitives;
using Microsoft.Extensions.AI;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using OpenAI;
using Polly;
using Polly.CircuitBreaker;
using Polly.Timeout;

namespace Orchestrator.Core.Llm;

/// <summary>
/// Calls the configured provider through a Polly pipeline (per-attempt timeout, circuit breaker, concurrency
/// limit) and turns every provider failure into a typed exception the orchestrator can act on.
/// </summary>
public sealed class LlmGateway : IDisposable
{
    private readonly IChatClient client;
    private readonly LlmOptions options;
    private readonly ResiliencePipeline pipeline;
    private readonly SemaphoreSlim concurrency;
    private readonly ILogger<LlmGateway> logger;

    public LlmGateway(IOptions<LlmOptions> options, TimeProvider timeProvider, ILogger<LlmGateway> logger)
    {
        this.options = options.Value;
        this.logger = logger;
        Provider = this.options.EffectiveProvider;
        client = Provider switch
        {
            LlmOptions.Simulated => new SimulatedChatClient(this.options.SimulatedLatency, timeProvider),
            LlmOptions.OpenAi => CreateOpenAiClient(this.options),
            _ => throw new OptionsValidationException(LlmOptions.SectionName, typeof(LlmOptions), [$"Llm:Provider '{Provider}' is not one of openai, simulated."]),
        };
        concurrency = new SemaphoreSlim(this.options.MaxConcurrency);
        pipeline = new ResiliencePipelineBuilder { TimeProvider = timeProvider }
            .AddCircuitBreaker(new CircuitBreakerStrategyOptions
            {
                Name = $"llm-{Provider}",
                FailureRatio = this.options.BreakerFailureRatio,
                MinimumThroughput = this.options.BreakerMinimumThroughput,
                SamplingDuration = this.options.BreakerSamplingDuration,
                BreakDuration = this.options.BreakerDuration,
                ShouldHandle = new PredicateBuilder().Handle<LlmUnavailableException>(),
            })
            .AddTimeout(this.options.Timeout)
            .Build();
    }

    /// <summary>The provider name recorded with each step (<c>openai</c> or <c>simulated</c>).</summary>
    public string Provider { get; }

    public string DefaultModel => options.Model;

    public async Task<LlmCompletion> CompleteAsync(LlmRequest request, CancellationToken cancellationToken)
    {
        var model = request.Model ?? options.Model;
        var messages = new List<ChatMessage>();
        if (!string.IsNullOrEmpty(request.System))
        {
            messages.Add(new ChatMessage(ChatRole.System, request.System));
        }

        messages.Add(new ChatMessage(ChatRole.User, request.Prompt));
        foreach (var (role, text) in request.Conversation)
        {
            messages.Add(new ChatMessage(role == "assistant" ? ChatRole.Assistant : ChatRole.User, text));
        }

        var chatOptions = new ChatOptions { ModelId = model, MaxOutputTokens = request.MaxTokens, Temperature = (float?)request.Temperature };
        if (request.JsonSchema is not null)
        {
            chatOptions.ResponseFormat = options.StructuredOutput switch
            {
                StructuredOutputMode.JsonObject => ChatResponseFormat.Json,
                StructuredOutputMode.None => null,
                _ => ChatResponseFormat.ForJsonSchema(System.Text.Json.JsonDocument.Parse(request.JsonSchema).RootElement.Clone(), "output"),
            };
        }

        await concurrency.WaitAsync(cancellationToken);
        try
        {
            var response = await pipeline.ExecuteAsync(
                async token =>
                {
                    try
                    {
                        return await client.GetResponseAsync(messages, chatOptions, token);
                    }
                    catch (ClientResultException ex)
                    {
                        throw Classify(ex);
                    }
                    catch (HttpRequestException ex)
                    {
                        throw new LlmUnavailableException($"{Provider}: {ex.Message}", ex);
                    }
                },
                cancellationToken);
            var inputTokens = (int)(response.Usage?.InputTokenCount ?? 0);
            var outputTokens = (int)(response.Usage?.OutputTokenCount ?? 0);
            var cost = (inputTokens * options.InputCostPer1K + outputTokens * options.OutputCostPer1K) / 1000m;
            return new LlmCompletion(response.Text, inputTokens, outputTokens, cost, Provider, response.ModelId ?? model);
        }
        catch (BrokenCircuitException ex)
        {
            throw new LlmUnavailableException($"{Provider}: circuit breaker open: {ex.Message}", ex);
        }
        catch (TimeoutRejectedException ex)
        {
            throw new LlmUnavailableException($"{Provider}: no answer within {options.Timeout.TotalSeconds:0.#} s", ex);
        }
        finally
        {
            concurrency.Release();
        }
    }

    public void Dispose()
    {
        concurrency.Dispose();
        client.Dispose();
    }

    private Exception Classify(ClientResultException ex)
    {
        var status = ex.Status;
        Log.LlmCallFailed(logger, Provider, status, ex.Message);
        return status is >= 400 and < 500 and not 408 and not 429
            ? new LlmRequestRejectedException($"{Provider} rejected the request (HTTP {status}): {ex.Message}", ex)
            : new LlmUnavailableException($"{Provider} failed (HTTP {status}): {ex.Message}", ex);
    }

    private static IChatClient CreateOpenAiClient(LlmOptions options)
    {
        var clientOptions = new OpenAIClientOptions
        {
            // Retries belong to Durable (they survive restarts and cost nothing while waiting).
            RetryPolicy = new ClientRetryPolicy(maxRetries: 0),
            NetworkTimeout = options.Timeout + TimeSpan.FromSeconds(5),
        };
        if (!string.IsNullOrWhiteSpace(options.Endpoint))
        {
            clientOptions.Endpoint = new Uri(options.Endpoint);
        }

        var key = string.IsNullOrWhiteSpace(options.ApiKey) ? "not-needed" : options.ApiKey;
        return new OpenAIClient(new ApiKeyCredential(key), clientOptions).GetChatClient(options.Model).AsIChatClient();
    }
}
