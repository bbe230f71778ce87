using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using Orchestrator.Core.Monitoring;
using Orchestrator.Core.Monitoring.Checks;

namespace Orchestrator.Core.Tests.Monitoring;

/// <summary>The checks' options bind from <c>Monitors:&lt;Check&gt;</c> and a bad setting names its key.</summary>
public sealed class MonitorChecksExtensionsTests
{
    [Fact]
    public void A_schedule_that_is_not_NCRONTAB_fails_validation_naming_its_key()
    {
        using var provider = Services(new() { ["Monitors:StuckWorkflows:Schedule"] = "every minute" });

        var error = Assert.Throws<OptionsValidationException>(() => provider.GetRequiredService<IOptions<StuckWorkflowsMonitorOptions>>().Value);

        Assert.Contains("Monitors:StuckWorkflows:Schedule", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_threshold_out_of_range_names_its_key_and_good_settings_bind()
    {
        using var provider = Services(new() { ["Monitors:FailureRate:MaxFailureRatio"] = "1.5", ["Monitors:ReplicaLag:MaxLag"] = "00:00:45" });

        var error = Assert.Throws<OptionsValidationException>(() => provider.GetRequiredService<IOptions<FailureRateMonitorOptions>>().Value);

        Assert.Contains("Monitors:FailureRate:MaxFailureRatio", error.Message, StringComparison.Ordinal);
        Assert.Equal(TimeSpan.FromSeconds(45), provider.GetRequiredService<IOptions<ReplicaLagMonitorOptions>>().Value.MaxLag);
    }

    private static ServiceProvider Services(Dictionary<string, string?> settings)
    {
        var services = new ServiceCollection();
        services.AddSingleton<IConfiguration>(new ConfigurationBuilder().AddInMemoryCollection(settings).Build());
        services.AddMonitorChecks();
        return services.BuildServiceProvider();
    }
}
