using System.ClientModel;
using System.ClientModel.Primitives;
using Microsoft.Extensions.AI;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using OpenAI;
using Orchestrator.Core.Hosting;
using Orchestrator.Core.Llm.Breakers;
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
    private readonly LlmOptions options;
    private readonly Dictionary<string, ProviderClient> providers = new(StringComparer.OrdinalIgnoreCase);
    private readonly SemaphoreSlim concurrency;
    private readonly ILogger<LlmGateway> logger;
    private readonly CircuitBreakerRegistry breakers;
    private readonly Metrics.OrchestratorMetrics? metrics;
    private readonly TimeProvider timeProvider;

    public LlmGateway(
        IOptions<LlmOptions> options, TimeProvider timeProvider, ILogger<LlmGateway> logger,
        CircuitBreakerRegistry? breakers = null, Metrics.OrchestratorMetrics? metrics = null)
    {
        this.options = options.Value;
        this.logger = logger;
        this.breakers = breakers ?? new CircuitBreakerRegistry();
        this.metrics = metrics;
        this.timeProvider = timeProvider;
        Provider = this.options.EffectiveProvider;
        providers[LlmOptions.DefaultProviderName] = CreateProvider(Provider, Provider, this.options.Endpoint, this.options.ApiKey, this.options.Model, timeProvider);
        foreach (var (name, provider) in this.options.Providers)
        {
            providers[name] = CreateProvider(name, provider.Kind.ToLowerInvariant(), provider.Endpoint, provider.ApiKey, provider.Model ?? this.options.Model, timeProvider);
        }

        concurrency = new SemaphoreSlim(this.options.MaxConcurrency);
    }

    /// <summary>The default provider's kind, recorded with each step it serves (<c>openai</c> or <c>simulated</c>).</summary>
    public string Provider { get; }

    /// <summary>Whether a step may name <paramref name="provider"/>.</summary>
    public bool Knows(string? provider) => provider is null || providers.ContainsKey(provider);

    public IEnumerable<string> ProviderNames => providers.Keys;

    /// <summary>
    /// The most <paramref name="request"/> may spend: its estimated input tokens (about four characters a token)
    /// plus its maximum output (<see cref="LlmRequest.MaxTokens"/>, else <see cref="LlmOptions.ReservedOutputTokens"/>),
    /// priced at the dearest provider and model that may serve it.
    /// </summary>
    public LlmReservation Reserve(LlmRequest request)
    {
        var characters = request.Prompt.Length + (request.System?.Length ?? 0) + (request.JsonSchema?.Length ?? 0)
            + request.Conversation.Sum(m => m.Text.Length);
        long input = (characters + 3) / 4;
        long output = request.MaxTokens ?? options.ReservedOutputTokens;
        var cost = (input * options.InputCostPer1K + output * options.OutputCostPer1K) / 1000m;
        return new LlmReservation(input + output, cost);
    }

    public async Task<LlmCompletion> CompleteAsync(LlmRequest request, CancellationToken cancellationToken)
    {
        var provider = request.Provider is null ? providers[LlmOptions.DefaultProviderName]
            : providers.TryGetValue(request.Provider, out var named) ? named
            : throw new LlmRequestRejectedException($"unknown provider '{request.Provider}'; configured: {string.Join(", ", providers.Keys)}");
        var model = request.Model ?? provider.Model;
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
        var started = timeProvider.GetTimestamp();
        var outcome = "error";
        try
        {
            var response = await provider.Pipeline.ExecuteAsync(
                async token =>
                {
                    try
                    {
                        return await provider.Client.GetResponseAsync(messages, chatOptions, token);
                    }
                    catch (ClientResultException ex)
                    {
                        throw Classify(provider.Name, ex);
                    }
                    catch (HttpRequestException ex)
                    {
                        throw new LlmUnavailableException($"{provider.Name}: {ex.Message}", ex);
                    }
                },
                cancellationToken);
            var inputTokens = (int)(response.Usage?.InputTokenCount ?? 0);
            var outputTokens = (int)(response.Usage?.OutputTokenCount ?? 0);
            var cost = (inputTokens * options.InputCostPer1K + outputTokens * options.OutputCostPer1K) / 1000m;
            outcome = "success";
            metrics?.RecordLlmCall(provider.Name, response.ModelId ?? model, outcome, timeProvider.GetElapsedTime(started), inputTokens, outputTokens, cost);
            return new LlmCompletion(response.Text, inputTokens, outputTokens, cost, provider.Name, response.ModelId ?? model);
        }
        catch (BrokenCircuitException ex)
        {
            outcome = "breaker_open";
            throw new LlmUnavailableException($"{provider.Name}: circuit breaker open: {ex.Message}", ex);
        }
        catch (TimeoutRejectedException ex)
        {
            outcome = "timeout";
            throw new LlmUnavailableException($"{provider.Name}: no answer within {options.Timeout.TotalSeconds:0.#} s", ex);
        }
        catch (LlmRequestRejectedException)
        {
            outcome = "rejected";
            throw;
        }
        catch (LlmUnavailableException)
        {
            outcome = "unavailable";
            throw;
        }
        finally
        {
            concurrency.Release();
            if (outcome != "success")
            {
                metrics?.RecordLlmCall(provider.Name, model, outcome, timeProvider.GetElapsedTime(started), 0, 0, 0m);
            }
        }
    }

    public void Dispose()
    {
        concurrency.Dispose();
        foreach (var provider in providers.Values)
        {
            provider.Client.Dispose();
        }
    }

    private ProviderClient CreateProvider(string name, string kind, string? endpoint, string? apiKey, string model, TimeProvider timeProvider)
    {
        IChatClient client = kind switch
        {
            LlmOptions.Simulated => new SimulatedChatClient(options.SimulatedLatency, timeProvider),
            LlmOptions.OpenAi => CreateOpenAiClient(endpoint, apiKey, model, options.Timeout),
            _ => throw new OptionsValidationException(LlmOptions.SectionName, typeof(LlmOptions), [$"LLM provider '{name}': kind '{kind}' is not one of openai, simulated."]),
        };
        // A span per call (model, tokens, finish reason; never the prompt) between the activity's span and the HTTP one.
        client = client.AsBuilder().UseOpenTelemetry(sourceName: OrchestratorTelemetry.LlmSource).Build();
        var displayName = name == LlmOptions.DefaultProviderName ? kind : name;
        var breaker = breakers.Register(displayName, new CircuitBreakerSettings
        {
            FailureRatio = options.BreakerFailureRatio,
            MinimumThroughput = options.BreakerMinimumThroughput,
            SamplingDuration = options.BreakerSamplingDuration,
            BreakDuration = options.BreakerDuration,
        });
        var pipeline = new ResiliencePipelineBuilder { TimeProvider = timeProvider }
            .AddSharedCircuitBreaker(breaker, new PredicateBuilder().Handle<LlmUnavailableException>().Build())
            .AddTimeout(options.Timeout)
            .Build();
        return new ProviderClient(displayName, client, pipeline, model);
    }

    private Exception Classify(string provider, ClientResultException ex)
    {
        var status = ex.Status;
        Log.LlmCallFailed(logger, provider, status, ex.Message);
        return status is >= 400 and < 500 and not 408 and not 429
            ? new LlmRequestRejectedException($"{provider} rejected the request (HTTP {status}): {ex.Message}", ex)
            : new LlmUnavailableException($"{provider} failed (HTTP {status}): {ex.Message}", ex);
    }

    private static IChatClient CreateOpenAiClient(string? endpoint, string? apiKey, string model, TimeSpan timeout)
    {
        var clientOptions = new OpenAIClientOptions
        {
            // Retries belong to Durable (they survive restarts and cost nothing while waiting).
            RetryPolicy = new ClientRetryPolicy(maxRetries: 0),
            NetworkTimeout = timeout + TimeSpan.FromSeconds(5),
        };
        if (!string.IsNullOrWhiteSpace(endpoint))
        {
            clientOptions.Endpoint = new Uri(endpoint);
        }

        var key = string.IsNullOrWhiteSpace(apiKey) ? "not-needed" : apiKey;
        return new OpenAIClient(new ApiKeyCredential(key), clientOptions).GetChatClient(model).AsIChatClient();
    }

    private sealed record ProviderClient(string Name, IChatClient Client, ResiliencePipeline Pipeline, string Model);
}
