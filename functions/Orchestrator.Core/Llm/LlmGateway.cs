using System.ClientModel;
using System.Threading.RateLimiting;
using System.Globalization;
using Microsoft.Extensions.AI;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Orchestrator.Core.Definitions;
using Orchestrator.Core.Llm.Breakers;
using Orchestrator.Core.Llm.Limits;
using Polly;
using Polly.CircuitBreaker;
using Polly.RateLimiting;
using Polly.Simmy;
using Polly.Timeout;

namespace Orchestrator.Core.Llm;

/// <summary>
/// Calls LLM providers by name, each through its own Polly pipeline (circuit breaker, rate and concurrency limits,
/// per-attempt timeout, optional fault injection), and serves a step from the first provider of its chain that can:
/// a provider whose breaker is open, that is rate-limited or that fails transiently is skipped (and the skip
/// recorded). A permanent failure (a rejected request, a content-filter refusal) fails at once. Every failure leaves
/// as a typed exception whose message carries no credential.
/// </summary>
public sealed class LlmGateway : IDisposable
{
    private readonly LlmOptions options;
    private readonly Dictionary<string, ProviderClient> providers = new(StringComparer.OrdinalIgnoreCase);
    private readonly ILogger<LlmGateway> logger;
    private readonly CircuitBreakerRegistry breakers;
    private readonly Metrics.OrchestratorMetrics? metrics;
    private readonly TimeProvider timeProvider;
    private readonly SecretRedactor redactor;
    private readonly ProviderLimiterFactory limiters;

    public LlmGateway(
        IOptions<LlmOptions> options, TimeProvider timeProvider, ILogger<LlmGateway> logger, ProviderLimiterFactory limiters,
        CircuitBreakerRegistry? breakers = null, Metrics.OrchestratorMetrics? metrics = null)
    {
        this.options = options.Value;
        this.limiters = limiters;
        this.logger = logger;
        this.breakers = breakers ?? new CircuitBreakerRegistry();
        this.metrics = metrics;
        this.timeProvider = timeProvider;
        var settings = this.options.ResolveProviders();
        redactor = new SecretRedactor(settings.Values.SelectMany(p => p.Secrets));
        foreach (var (name, provider) in settings)
        {
            providers[name] = CreateProvider(provider);
        }
    }

    /// <summary>The provider a step without <c>provider:</c> uses.</summary>
    public string Provider => LlmOptions.DefaultProviderName;

    /// <summary>Whether a step may name <paramref name="provider"/>.</summary>
    public bool Knows(string? provider) => provider is null || providers.ContainsKey(provider);

    public IEnumerable<string> ProviderNames => providers.Keys.Order(StringComparer.Ordinal);

    /// <summary>Whether fault injection is on for any provider (reported in <c>/health</c>).</summary>
    public IReadOnlyList<string> ChaosProviders => providers.Values.Where(p => p.Settings.Chaos.Enabled).Select(p => p.Settings.Name).Order(StringComparer.Ordinal).ToList();

    /// <summary>Removes every configured credential (and anything key-shaped) from <paramref name="text"/>.</summary>
    public string Redact(string text) => redactor.Redact(text);

    /// <summary>
    /// The most <paramref name="request"/> may spend: its estimated input tokens (about four characters a token)
    /// plus its maximum output (<see cref="LlmRequest.MaxTokens"/>, else <see cref="LlmOptions.ReservedOutputTokens"/>),
    /// priced at the dearest provider and model of its chain.
    /// </summary>
    public LlmReservation Reserve(LlmRequest request)
    {
        var input = EstimateInputTokens(request);
        long output = request.MaxTokens ?? options.ReservedOutputTokens;
        var cost = Route(request).Max(r => r.Provider.Settings.CostOf(r.Model, input, output));
        return new LlmReservation(input + output, cost);
    }

    public async Task<LlmCompletion> CompleteAsync(LlmRequest request, CancellationToken cancellationToken)
    {
        var route = Route(request);
        var messages = Messages(request);
        var estimate = (int)Math.Min(int.MaxValue, EstimateInputTokens(request) + (request.MaxTokens ?? options.ReservedOutputTokens));
        var skipped = new List<LlmSkip>();
        TimeSpan? earliest = null;
        LlmUnavailableException? last = null;
        for (var i = 0; i < route.Count; i++)
        {
            var (provider, model) = route[i];
            try
            {
                var wait = i == route.Count - 1 ? limiters.QueueTimeout : TimeSpan.Zero;
                var completion = await CallAsync(provider, model, messages, ChatOptionsFor(request, provider, model), estimate, wait, cancellationToken);
                return completion with { Skipped = skipped };
            }
            catch (LlmUnavailableException ex) when (route.Count > 1)
            {
                var reason = RetryAfterHint.Strip(ex.Message);
                skipped.Add(new LlmSkip(provider.Settings.Name, model, reason));
                Log.ProviderSkipped(logger, provider.Settings.Name, model, reason);
                earliest = ex.RetryAfter is { } after && (earliest is null || after < earliest) ? after : earliest;
                last = ex;
            }
        }

        // Every provider of the chain is open, limited or failing: the step waits (a durable timer) until the first
        // of them may be tried again, and no provider is called meanwhile.
        var reasons = string.Join("; ", skipped.Select(s => $"{s.Provider} ({s.Model}): {s.Reason}"));
        throw new LlmUnavailableException($"no provider of the chain could serve the step: {reasons}", earliest, last);
    }

    public void Dispose()
    {
        foreach (var provider in providers.Values)
        {
            provider.Client.Dispose();
        }
    }

    private async Task<LlmCompletion> CallAsync(
        ProviderClient provider, string model, List<ChatMessage> messages, ChatOptions chatOptions, int estimatedTokens, TimeSpan queueWait, CancellationToken cancellationToken)
    {
        var name = provider.Settings.Name;
        var started = timeProvider.GetTimestamp();
        var outcome = "error";
        var context = ResilienceContextPool.Shared.Get(cancellationToken);
        context.Properties.Set(EstimatedTokens, estimatedTokens);
        context.Properties.Set(QueueDeadline, timeProvider.GetUtcNow() + queueWait);
        try
        {
            var response = await provider.Pipeline.ExecuteAsync(
                static async (ctx, state) =>
                {
                    ctx.Properties.Set(Sent, true);
                    try
                    {
                        var reply = await state.Client.GetResponseAsync(state.Messages, state.Options, ctx.CancellationToken);
                        if (reply.Usage is { } usage)
                        {
                            ctx.Properties.Set(UsedTokens, (int)Math.Min(int.MaxValue, usage.TotalTokenCount ?? (usage.InputTokenCount ?? 0) + (usage.OutputTokenCount ?? 0)));
                        }

                        return reply;
                    }
                    catch (ClientResultException ex)
                    {
                        throw state.Gateway.Classify(state.Name, ex);
                    }
                    catch (HttpRequestException ex)
                    {
                        throw new LlmUnavailableException($"{state.Name}: {state.Gateway.Redact(ex.Message)}", (TimeSpan?)null, ex);
                    }
                    catch (OperationCanceledException ex) when (!ctx.CancellationToken.IsCancellationRequested)
                    {
                        // The HTTP client's own network timeout.
                        throw new LlmUnavailableException($"{state.Name}: no answer (network timeout)", (TimeSpan?)null, ex);
                    }
                },
                context,
                (Client: provider.Client, Messages: messages, Options: chatOptions, Name: name, Gateway: this));
            if (response.FinishReason == ChatFinishReason.ContentFilter)
            {
                outcome = "rejected";
                throw new LlmRequestRejectedException($"{name} refused the request: its content filter stopped the reply");
            }

            var inputTokens = (int)(response.Usage?.InputTokenCount ?? 0);
            var outputTokens = (int)(response.Usage?.OutputTokenCount ?? 0);
            var servedBy = response.ModelId ?? model;
            var cost = provider.Settings.CostOf(servedBy, inputTokens, outputTokens);
            outcome = "success";
            metrics?.RecordLlmCall(name, servedBy, outcome, timeProvider.GetElapsedTime(started), inputTokens, outputTokens, cost);
            return new LlmCompletion(response.Text, inputTokens, outputTokens, cost, name, servedBy);
        }
        catch (BrokenCircuitException ex)
        {
            outcome = "breaker_open";
            throw new LlmUnavailableException($"{name}: circuit breaker open", ex.RetryAfter ?? provider.Settings.Breaker.BreakDuration, ex);
        }
        catch (RateLimiterRejectedException ex)
        {
            outcome = "rate_limited";
            throw new LlmUnavailableException($"{name}: rate limit reached", ex.RetryAfter ?? TimeSpan.FromSeconds(1), ex);
        }
        catch (TimeoutRejectedException ex)
        {
            outcome = "timeout";
            throw new LlmUnavailableException($"{name}: no answer within {provider.Settings.Timeout.TotalSeconds:0.#} s", (TimeSpan?)null, ex);
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
            await SettleTokensAsync(provider, context);
            ResilienceContextPool.Shared.Return(context);
            if (outcome != "success")
            {
                metrics?.RecordLlmCall(name, model, outcome, timeProvider.GetElapsedTime(started), 0, 0, 0m);
            }
        }
    }

    /// <summary>The resilience property the token limiter charges before the call.</summary>
    internal static readonly ResiliencePropertyKey<int> EstimatedTokens = new("llm.estimated-tokens");

    /// <summary>
    /// Until when the call may wait for its limiters, all of them together: a provider with another behind it in the
    /// chain does not make the step wait at all.
    /// </summary>
    internal static readonly ResiliencePropertyKey<DateTimeOffset> QueueDeadline = new("llm.queue-deadline");

    /// <summary>The token window's lease of the call, settled once the call is over.</summary>
    internal static readonly ResiliencePropertyKey<RateLimitLease> TokenLease = new("llm.token-lease");

    /// <summary>Set when the request went out (every limiter let it through).</summary>
    internal static readonly ResiliencePropertyKey<bool> Sent = new("llm.sent");

    /// <summary>The tokens the provider counted for the reply, when it said.</summary>
    internal static readonly ResiliencePropertyKey<int> UsedTokens = new("llm.used-tokens");

    /// <summary>What is left of the call's wait for its limiters.</summary>
    private TimeSpan Remaining(ResilienceContext context)
    {
        var left = context.Properties.GetValue(QueueDeadline, default) - timeProvider.GetUtcNow();
        return left > TimeSpan.Zero ? left : TimeSpan.Zero;
    }

    /// <summary>
    /// Corrects the token window's charge (the estimate) once the call is over: to what the provider counted, to
    /// nothing when a later limiter refused the call so it never went out, and left at the estimate when the provider
    /// did not say (a failed or timed-out call may still have been counted).
    /// </summary>
    private static async Task SettleTokensAsync(ProviderClient provider, ResilienceContext context)
    {
        if (provider.TokenWindow is not { } window || !context.Properties.TryGetValue(TokenLease, out var lease))
        {
            return;
        }

        if (!context.Properties.GetValue(Sent, false))
        {
            await window.SettleAsync(lease, 0, CancellationToken.None);
        }
        else if (context.Properties.TryGetValue(UsedTokens, out var used))
        {
            await window.SettleAsync(lease, used, CancellationToken.None);
        }
    }

    private List<(ProviderClient Provider, string Model)> Route(LlmRequest request)
    {
        var choices = request.Route is { Count: > 0 } route ? route : [new ProviderChoice(request.Provider ?? LlmOptions.DefaultProviderName)];
        return choices.Select(choice =>
        {
            var provider = providers.TryGetValue(choice.Name, out var named) ? named
                : throw new LlmRequestRejectedException($"unknown provider '{choice.Name}'; configured: {string.Join(", ", ProviderNames)}");
            return (provider, choice.Model ?? provider.Settings.ModelFor(request.Model));
        }).ToList();
    }

    private static long EstimateInputTokens(LlmRequest request)
    {
        var characters = request.Prompt.Length + (request.System?.Length ?? 0) + (request.JsonSchema?.Length ?? 0)
            + request.Conversation.Sum(m => m.Text.Length);
        return (characters + 3) / 4;
    }

    private static List<ChatMessage> Messages(LlmRequest request)
    {
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

        return messages;
    }

    private ChatOptions ChatOptionsFor(LlmRequest request, ProviderClient provider, string model)
    {
        var chatOptions = new ChatOptions
        {
            ModelId = ChatClients.WireModel(provider.Settings, model),
            MaxOutputTokens = request.MaxTokens,
            Temperature = (float?)request.Temperature,
        };
        if (request.JsonSchema is not null)
        {
            chatOptions.ResponseFormat = options.StructuredOutput switch
            {
                StructuredOutputMode.JsonObject => ChatResponseFormat.Json,
                StructuredOutputMode.None => null,
                _ => ChatResponseFormat.ForJsonSchema(System.Text.Json.JsonDocument.Parse(request.JsonSchema).RootElement.Clone(), "output"),
            };
        }

        return chatOptions;
    }

    private ProviderClient CreateProvider(LlmProviderSettings settings)
    {
        var client = ChatClients.Create(settings, timeProvider);
        var breaker = breakers.Register(settings.Name, settings.Breaker);
        var limits = limiters.Create(settings.Name, settings.MaxConcurrency, settings.RequestsPerMinute, settings.TokensPerMinute);

        // Outermost the breaker shared by every instance (while it is open nothing below runs, so no slot or window is
        // taken); then the cluster-wide windows (requests, then the call's estimated tokens) and concurrency slots,
        // whose refusals count for the breaker neither way; then the per-attempt timeout; innermost any fault injection.
        var builder = new ResiliencePipelineBuilder { TimeProvider = timeProvider }
            .AddSharedCircuitBreaker(breaker, new PredicateBuilder().Handle<LlmUnavailableException>().Handle<TimeoutRejectedException>().Build());
        if (limits.Requests is { } requests)
        {
            builder.AddRateLimiter(new RateLimiterStrategyOptions
            {
                Name = $"llm-{settings.Name}-requests",
                RateLimiter = args => requests.AcquireAsync(1, Remaining(args.Context), args.Context.CancellationToken),
            });
        }

        if (limits.Tokens is { } tokens)
        {
            builder.AddRateLimiter(new RateLimiterStrategyOptions
            {
                Name = $"llm-{settings.Name}-tokens",
                RateLimiter = async args =>
                {
                    // A call estimated above the whole window still goes when the window is empty, rather than never.
                    var estimate = Math.Clamp(args.Context.Properties.GetValue(EstimatedTokens, 1), 1, tokens.PermitLimit);
                    var lease = await tokens.AcquireAsync(estimate, Remaining(args.Context), args.Context.CancellationToken);
                    args.Context.Properties.Set(TokenLease, lease);
                    return lease;
                },
            });
        }

        builder.AddRateLimiter(new RateLimiterStrategyOptions
        {
            Name = $"llm-{settings.Name}-concurrency",
            RateLimiter = args => limits.Concurrency.AcquireAsync(1, Remaining(args.Context), args.Context.CancellationToken),
        });
        builder.AddTimeout(settings.Timeout);
        AddChaos(builder, settings);
        return new ProviderClient(settings, client, builder.Build(), limits.Tokens);
    }

    /// <summary>Fault injection inside the timeout and the breaker, so a drill exercises both; nothing reaches the provider for an injected fault.</summary>
    private static void AddChaos(ResiliencePipelineBuilder builder, LlmProviderSettings settings)
    {
        var chaos = settings.Chaos;
        if (chaos.LatencyRate > 0)
        {
            builder.AddChaosLatency(chaos.LatencyRate, chaos.Latency);
        }

        if (chaos.FaultRate > 0)
        {
            builder.AddChaosFault(chaos.FaultRate, () => new LlmUnavailableException($"{settings.Name}: injected fault (chaos): provider unreachable"));
        }

        if (chaos.OutcomeRate > 0)
        {
            var status = chaos.OutcomeStatus;
            builder.AddChaosFault(chaos.OutcomeRate, () => IsTransient(status)
                ? new LlmUnavailableException($"{settings.Name} failed (HTTP {status}, injected by chaos)")
                : new LlmRequestRejectedException($"{settings.Name} rejected the request (HTTP {status}, injected by chaos)"));
        }
    }

    private static bool IsTransient(int status) => status is 408 or 429 or >= 500;

    private Exception Classify(string provider, ClientResultException ex)
    {
        var status = ex.Status;
        var message = Redact(ex.Message);
        Log.LlmCallFailed(logger, provider, status, message);
        if (!IsTransient(status) && status != 0)
        {
            return new LlmRequestRejectedException($"{provider} rejected the request (HTTP {status}): {message}");
        }

        return new LlmUnavailableException($"{provider} failed (HTTP {status}): {message}", RetryAfter(ex), ex);
    }

    /// <summary>The provider's <c>retry-after-ms</c> or <c>Retry-After</c> (seconds or an HTTP date), when it sent one.</summary>
    private TimeSpan? RetryAfter(ClientResultException ex)
    {
        var headers = ex.GetRawResponse()?.Headers;
        if (headers is null)
        {
            return null;
        }

        if (headers.TryGetValue("retry-after-ms", out var ms) && double.TryParse(ms, NumberStyles.Float, CultureInfo.InvariantCulture, out var millis) && millis >= 0)
        {
            return TimeSpan.FromMilliseconds(millis);
        }

        if (!headers.TryGetValue("Retry-After", out var value) || value is null)
        {
            return null;
        }

        if (double.TryParse(value, NumberStyles.Float, CultureInfo.InvariantCulture, out var seconds) && seconds >= 0)
        {
            return TimeSpan.FromSeconds(seconds);
        }

        return DateTimeOffset.TryParse(value, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var at)
            ? at - timeProvider.GetUtcNow() is var wait && wait > TimeSpan.Zero ? wait : TimeSpan.Zero
            : null;
    }

    private sealed record ProviderClient(LlmProviderSettings Settings, IChatClient Client, ResiliencePipeline Pipeline, ClusterRateLimiter? TokenWindow);
}
