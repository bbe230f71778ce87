using System.Text.Json.Nodes;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using Orchestrator.Core.Llm;
using Orchestrator.Core.Tests.Fakes;

namespace Orchestrator.Core.Tests.Llm;

public sealed class LlmGatewayTests(PostgresDatabase database) : IClassFixture<PostgresDatabase>
{
    [Fact]
    public async Task The_simulated_provider_answers_deterministically_and_says_it_is_simulated()
    {
        using var gateway = Gateway(new LlmOptions { SimulatedLatency = TimeSpan.Zero });

        var first = await gateway.CompleteAsync(new LlmRequest("Summarise the quarterly report", null, null, null, null), default);
        var again = await gateway.CompleteAsync(new LlmRequest("Summarise the quarterly report", null, null, null, null), default);
        var other = await gateway.CompleteAsync(new LlmRequest("Something else", null, null, null, null), default);

        Assert.Equal(LlmOptions.DefaultProviderName, gateway.Provider);
        Assert.Equal(LlmOptions.DefaultProviderName, first.Provider);
        Assert.StartsWith("[simulated ", first.Text);
        Assert.Equal(first.Text, again.Text);
        Assert.NotEqual(first.Text, other.Text);
        Assert.True(first.InputTokens > 0 && first.OutputTokens > 0);
    }

    [Fact]
    public async Task The_simulated_provider_answers_a_structured_step_with_json_that_fits_its_schema()
    {
        using var gateway = Gateway(new LlmOptions { SimulatedLatency = TimeSpan.Zero });
        const string schema = """{"type":"object","required":["priority","confidence"],"properties":{"priority":{"enum":["low","high"]},"confidence":{"type":"number","minimum":0,"maximum":1}}}""";

        var reply = await gateway.CompleteAsync(new LlmRequest("Rate it", null, null, null, null) { JsonSchema = schema }, default);

        var (value, problems) = StructuredReplies.Check(reply.Text, schema);
        Assert.Null(problems);
        Assert.Contains(value!["priority"]!.GetValue<string>(), new[] { "low", "high" });
    }

    [Fact]
    public async Task A_step_naming_an_unconfigured_provider_is_rejected_without_a_call()
    {
        using var gateway = Gateway(new LlmOptions
        {
            SimulatedLatency = TimeSpan.Zero,
            Providers = { ["cheap"] = new LlmProviderOptions { Kind = LlmOptions.Simulated } },
        });

        var named = await gateway.CompleteAsync(new LlmRequest("x", null, null, null, null) { Provider = "cheap" }, default);
        var error = await Assert.ThrowsAsync<LlmRequestRejectedException>(() =>
            gateway.CompleteAsync(new LlmRequest("x", null, null, null, null) { Provider = "expensive" }, default));

        Assert.Equal("cheap", named.Provider);
        Assert.True(gateway.Knows("cheap") && gateway.Knows(null) && !gateway.Knows("expensive"));
        Assert.Contains("unknown provider 'expensive'", error.Message);
    }

    [Theory]
    [InlineData("```json\n{\"a\": 1}\n```", true)]
    [InlineData("{\"a\": 1}", true)]
    [InlineData("{\"a\": \"one\"}", false)]
    [InlineData("Sure! {\"a\": 1}", false)]
    public void Structured_replies_are_parsed_through_a_code_fence_and_checked_against_the_schema(string reply, bool valid)
    {
        var (value, problems) = StructuredReplies.Check(reply, """{"type":"object","properties":{"a":{"type":"integer"}}}""");

        Assert.Equal(valid, value is not null);
        Assert.Equal(valid, problems is null);
        if (valid)
        {
            Assert.Equal(1, value!["a"]!.GetValue<int>());
        }
    }

    private LlmGateway Gateway(LlmOptions options) => Gateways.Create(options, database.DataSource);
}
