using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using Orchestrator.Core.Definitions;
using Orchestrator.Core.Llm;
using Orchestrator.Core.Tests.Fakes;
using Orchestrator.Server.Tests.Infrastructure;

namespace Orchestrator.Core.Tests.Llm;

/// <summary>
/// Named providers over real HTTP (fake OpenAI-compatible servers): a fallback chain serves a step from the next
/// provider when one fails transiently and says why; permanent failures fail at once, never reach the next provider
/// and never carry the key; a provider's Retry-After reaches the orchestration; Azure OpenAI gets its own wire details.
/// </summary>
public sealed class ProviderRoutingTests : IAsyncLifetime
{
    // A configured credential is redacted by its value, whatever its shape; this one is plainly a test value.
    private const string PrimaryKey = "primary-test-credential";
    private readonly PostgresDatabase database = new();
    private FakeOpenAiServer primary = null!;
    private FakeOpenAiServer backup = null!;

    public async Task InitializeAsync()
    {
        await database.InitializeAsync();
        primary = await FakeOpenAiServer.StartAsync();
        backup = await FakeOpenAiServer.StartAsync();
    }

    public async Task DisposeAsync()
    {
        await primary.DisposeAsync();
        await backup.DisposeAsync();
        await database.DisposeAsync();
    }

    [Fact]
    public async Task A_primary_failing_transiently_is_skipped_for_the_backup_and_the_skip_is_reported()
    {
        primary.Fail("summarise", 503, "overloaded");
        using var gateway = Gateway();

        var reply = await gateway.CompleteAsync(Chain("summarise this", new ProviderChoice("primary"), new ProviderChoice("backup", "small-model")), default);

        Assert.Equal(("backup", "small-model"), (reply.Provider, reply.Model));
        Assert.Equal(FakeOpenAiServer.AnswerFor("summarise this"), reply.Text);
        var skip = Assert.Single(reply.Skipped);
        Assert.Equal(("primary", "big-model"), (skip.Provider, skip.Model));
        Assert.Contains("HTTP 503", skip.Reason, StringComparison.Ordinal);
        Assert.Equal(1, primary.CountContaining("summarise"));
        Assert.Equal("small-model", backup.Requests.Single().Model);
    }

    [Fact]
    public async Task A_permanent_failure_fails_at_once_without_the_backup_and_without_the_key()
    {
        primary.Fail("classify", 401, $"Incorrect API key provided: {PrimaryKey}. You can find your API key at https://example.test.");
        using var gateway = Gateway();

        var error = await Assert.ThrowsAsync<LlmRequestRejectedException>(() =>
            gateway.CompleteAsync(Chain("classify this", new ProviderChoice("primary"), new ProviderChoice("backup")), default));

        Assert.Contains("HTTP 401", error.Message, StringComparison.Ordinal);
        Assert.DoesNotContain(PrimaryKey, error.Message, StringComparison.Ordinal);
        Assert.DoesNotContain(PrimaryKey, error.ToString(), StringComparison.Ordinal);
        Assert.Equal(1, primary.CountContaining("classify"));
        Assert.Empty(backup.Requests);
    }

    [Fact]
    public async Task A_content_filter_refusal_is_permanent()
    {
        primary.Refuse("forbidden");
        using var gateway = Gateway();

        var error = await Assert.ThrowsAsync<LlmRequestRejectedException>(() => gateway.CompleteAsync(Chain("forbidden topic", new ProviderChoice("primary")), default));

        Assert.Contains("content filter", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_429_with_Retry_After_carries_the_wait_to_the_orchestration()
    {
        primary.Fail("busy", 429, "Rate limit reached", retryAfter: 3);
        using var gateway = Gateway();

        var error = await Assert.ThrowsAsync<LlmUnavailableException>(() => gateway.CompleteAsync(Chain("busy now", new ProviderChoice("primary")), default));

        Assert.Equal(TimeSpan.FromSeconds(3), error.RetryAfter);
        Assert.Equal(TimeSpan.FromSeconds(3), RetryAfterHint.Read(error.Message));
    }

    [Fact]
    public async Task When_every_provider_of_the_chain_fails_the_earliest_retry_after_is_kept_and_every_reason_named()
    {
        primary.Fail("all", 429, "slow down", retryAfter: 7);
        backup.Fail("all", 429, "slow down too", retryAfter: 2);
        using var gateway = Gateway();

        var error = await Assert.ThrowsAsync<LlmUnavailableException>(() =>
            gateway.CompleteAsync(Chain("all down", new ProviderChoice("primary"), new ProviderChoice("backup")), default));

        Assert.Equal(TimeSpan.FromSeconds(2), error.RetryAfter);
        Assert.Contains("primary (big-model)", error.Message, StringComparison.Ordinal);
        Assert.Contains("backup (", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Cost_is_priced_per_provider_and_model()
    {
        using var gateway = Gateway();

        var reply = await gateway.CompleteAsync(Chain("one two three four", new ProviderChoice("primary")), default);

        // The fake counts 4 input tokens and 3 output tokens; big-model costs $10 / $20 per 1K.
        Assert.Equal((4 * 10m + 3 * 20m) / 1000m, reply.CostUsd);
    }

    [Fact]
    public async Task An_azure_openai_provider_sends_its_deployment_and_api_key_to_the_v1_endpoint()
    {
        var options = new LlmOptions
        {
            Provider = LlmOptions.Simulated,
            Providers =
            {
                ["azure"] = new LlmProviderOptions
                {
                    Kind = LlmOptions.AzureOpenAi, Endpoint = primary.BaseUrl[..^"/v1".Length], ApiKey = "azure-test-credential", Deployment = "gpt4o-prod",
                },
            },
        };
        Assert.True(new LlmOptionsValidator().Validate(null, options).Succeeded);
        using var gateway = Gateways.Create(options, database.DataSource);

        await gateway.CompleteAsync(Chain("hello azure", new ProviderChoice("azure")), default);

        var request = primary.Requests.Single();
        Assert.Equal("/openai/v1/chat/completions", request.Path);
        Assert.Equal("azure-test-credential", request.ApiKey);
        Assert.Equal("gpt4o-prod", request.Model);
    }

    [Fact]
    public void Bad_provider_settings_are_refused_at_start_naming_the_key()
    {
        var options = new LlmOptions
        {
            Providers =
            {
                ["odd"] = new LlmProviderOptions { Kind = "anthropic" },
                ["azure"] = new LlmProviderOptions { Kind = LlmOptions.AzureOpenAi },
                ["fast"] = new LlmProviderOptions { Endpoint = "not a url", RequestsPerMinute = 0 },
            },
        };

        var result = new LlmOptionsValidator().Validate(null, options);

        Assert.True(result.Failed);
        Assert.Contains(result.Failures!, f => f.StartsWith("Llm:Providers:odd:Kind:", StringComparison.Ordinal));
        Assert.Contains(result.Failures!, f => f.StartsWith("Llm:Providers:fast:RequestsPerMinute:", StringComparison.Ordinal));
        options.Providers.Remove("odd");
        options.Providers["fast"].RequestsPerMinute = null;
        var second = new LlmOptionsValidator().Validate(null, options);
        Assert.Contains(second.Failures!, f => f.StartsWith("Llm:Providers:azure:Endpoint:", StringComparison.Ordinal));
        Assert.Contains(second.Failures!, f => f.StartsWith("Llm:Providers:azure:ApiKey:", StringComparison.Ordinal));
        Assert.Contains(second.Failures!, f => f.StartsWith("Llm:Providers:fast:Endpoint:", StringComparison.Ordinal));
    }

    [Fact]
    public void A_redactor_removes_configured_keys_and_key_shaped_text()
    {
        var redactor = new SecretRedactor(["my-own-secret-value"]);

        // The partially masked key a provider echoes back, put together here so no key-shaped literal is committed.
        var echoed = string.Concat("sk", "-", "abc123", new string('*', 11), "xyz9");

        var text = redactor.Redact($"key my-own-secret-value, echoed {echoed}, header Bearer opaque-token-value");

        Assert.DoesNotContain("my-own-secret-value", text, StringComparison.Ordinal);
        Assert.DoesNotContain("abc123", text, StringComparison.Ordinal);
        Assert.DoesNotContain("opaque-token-value", text, StringComparison.Ordinal);
    }

    [Fact]
    public async Task The_token_window_keeps_what_a_call_used_and_gives_back_what_a_call_refused_by_a_later_limiter_never_sent()
    {
        var held = primary.Hold("held");
        var options = new LlmOptions
        {
            Provider = LlmOptions.Simulated,
            Providers =
            {
                ["primary"] = new LlmProviderOptions { Endpoint = primary.BaseUrl, Model = "big-model", MaxConcurrency = 1, TokensPerMinute = 100_000 },
                ["backup"] = new LlmProviderOptions { Endpoint = backup.BaseUrl, Model = "small-model" },
            },
        };
        using var gateway = Gateways.Create(options, database.DataSource);

        var first = gateway.CompleteAsync(Chain("held call", new ProviderChoice("primary")), default);
        await primary.WaitForAsync("held");
        // Its one slot is taken: this call is charged to the token window, refused by the concurrency limit, and served by the backup.
        var second = await gateway.CompleteAsync(Chain("second call", new ProviderChoice("primary"), new ProviderChoice("backup")), default);
        held.SetResult();
        var served = await first;

        Assert.Equal("backup", second.Provider);
        await using var command = database.DataSource.CreateCommand("SELECT COALESCE(sum(amount), 0)::bigint FROM llm_rate_buckets WHERE provider = 'primary' AND kind = 'tokens'");
        Assert.Equal((long)(served.InputTokens + served.OutputTokens), (long)(await command.ExecuteScalarAsync())!);
    }

    private static LlmRequest Chain(string prompt, params ProviderChoice[] route) => new(prompt, null, null, null, null) { Route = route };

    private LlmGateway Gateway() => Gateways.Create(
        new LlmOptions
        {
            Provider = LlmOptions.Simulated,
            Providers =
            {
                ["primary"] = new LlmProviderOptions
                {
                    Endpoint = primary.BaseUrl, ApiKey = PrimaryKey, Model = "big-model",
                    Models = { ["big-model"] = new LlmModelOptions { InputCostPer1K = 10m, OutputCostPer1K = 20m } },
                },
                ["backup"] = new LlmProviderOptions { Endpoint = backup.BaseUrl, Model = "small-model" },
            },
        },
        database.DataSource);
}
