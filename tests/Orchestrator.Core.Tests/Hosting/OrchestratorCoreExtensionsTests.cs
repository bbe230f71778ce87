using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using Orchestrator.Core.Hosting;
using Orchestrator.Core.Llm;

namespace Orchestrator.Core.Tests.Hosting;

/// <summary>How configuration chooses the LLM provider: the Llm section first, then the OpenAI SDK's own variables.</summary>
public sealed class OrchestratorCoreExtensionsTests
{
    [Fact]
    public void With_nothing_configured_the_provider_is_simulated()
    {
        var options = Llm(new Dictionary<string, string?>());

        Assert.Equal(LlmOptions.Simulated, options.EffectiveProvider);
    }

    [Fact]
    public void The_OpenAI_variables_select_an_OpenAI_compatible_endpoint()
    {
        var options = Llm(new Dictionary<string, string?>
        {
            ["OPENAI_BASE_URL"] = "http://localhost:11434/v1",
            ["OPENAI_API_KEY"] = "key",
            ["OPENAI_MODEL"] = "llama3.1",
        });

        Assert.Equal(LlmOptions.OpenAi, options.EffectiveProvider);
        Assert.Equal(("http://localhost:11434/v1", "key", "llama3.1"), (options.Endpoint, options.ApiKey, options.Model));
    }

    [Fact]
    public void The_Llm_section_wins_over_the_OpenAI_variables()
    {
        var options = Llm(new Dictionary<string, string?>
        {
            ["Llm:Endpoint"] = "https://example.openai.azure.com/openai/v1",
            ["Llm:Model"] = "my-deployment",
            ["OPENAI_BASE_URL"] = "http://ignored/v1",
            ["OPENAI_MODEL"] = "ignored",
        });

        Assert.Equal(("https://example.openai.azure.com/openai/v1", "my-deployment"), (options.Endpoint, options.Model));
    }

    [Fact]
    public void An_unknown_provider_kind_is_a_configuration_error_naming_the_key()
    {
        var error = Assert.Throws<OptionsValidationException>(() => Llm(new Dictionary<string, string?> { ["Llm:Provider"] = "anthropic" }));

        Assert.Contains("Llm:Provider", error.Message);
    }

    private static LlmOptions Llm(Dictionary<string, string?> settings)
    {
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(settings).Build();
        var services = new ServiceCollection().AddSingleton<IConfiguration>(configuration).AddLogging();
        services.AddOrchestratorCore(configuration);
        using var provider = services.BuildServiceProvider();
        return provider.GetRequiredService<IOptions<LlmOptions>>().Value;
    }
}
