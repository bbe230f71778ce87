using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using Npgsql;
using Orchestrator.Core.Hosting;
using Orchestrator.Core.Llm.Limits;

namespace Orchestrator.Core.Tests.Llm.Limits;

public sealed class ProviderLimiterFactoryTests
{
    [Fact]
    public async Task A_provider_gets_its_limiters_once_with_the_per_minute_limits_it_sets()
    {
        await using var services = Services([]);
        var factory = services.GetRequiredService<ProviderLimiterFactory>();

        var openai = factory.Create("openai", 8, 600, null);

        Assert.Same(openai, factory.Create("openai", 8, 600, null));
        Assert.Equal((8, 600, TimeSpan.FromMinutes(1)), (openai.Concurrency.PermitLimit, openai.Requests!.PermitLimit, openai.Requests.Window));
        Assert.Null(openai.Tokens);
    }

    [Fact]
    public async Task A_bad_setting_is_refused_naming_its_key()
    {
        await using var services = Services(new() { ["Llm:Limits:SlotLease"] = "00:00:10", ["Llm:Limits:SlotRenewInterval"] = "00:00:06" });

        var failure = Assert.Throws<OptionsValidationException>(() => services.GetRequiredService<IOptions<LlmLimitOptions>>().Value);

        Assert.Contains("Llm:Limits:SlotRenewInterval", failure.Message, StringComparison.Ordinal);
    }

    private static ServiceProvider Services(Dictionary<string, string?> settings)
    {
        var services = new ServiceCollection();
        services.AddSingleton<IConfiguration>(new ConfigurationBuilder().AddInMemoryCollection(settings).Build());
        services.AddLogging();
        services.AddSingleton(TimeProvider.System);
        services.AddSingleton(new InstanceIdentity("test"));
        services.AddSingleton(_ => NpgsqlDataSource.Create("Host=127.0.0.1;Username=postgres;Password=postgres"));
        services.AddLlmLimits();
        return services.BuildServiceProvider();
    }
}
