using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Options;
using Orchestrator.Core.Hosting;

namespace Orchestrator.Core.Tests.Hosting;

public sealed class StartupGuardTests
{
    [Fact]
    public void A_failed_options_validation_ends_with_exit_code_78_and_every_failure_on_its_own_line()
    {
        using var error = new StringWriter();

        var exitCode = StartupGuard.Run(
            () => throw new OptionsValidationException("Llm", typeof(object), ["Llm:Timeout: too short", "Llm:Providers:a:Kind: unknown"]),
            error);

        Assert.Equal(78, exitCode);
        var lines = error.ToString().Split(Environment.NewLine, StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal([StartupGuard.MessagePrefix + "Llm:Timeout: too short", "Llm:Providers:a:Kind: unknown"], lines);
    }

    [Fact]
    public void Failures_of_several_options_classes_gathered_at_start_are_each_told()
    {
        using var error = new StringWriter();

        var exitCode = StartupGuard.Run(
            () => throw new AggregateException(
                new OptionsValidationException("Auth", typeof(object), ["Auth:AdminToken must be at least 16 characters."]),
                new InvalidConfigurationException("Logging:File:Path: cannot write /x")),
            error);

        Assert.Equal(StartupGuard.ConfigurationErrorExitCode, exitCode);
        Assert.Contains("Auth:AdminToken must be at least 16 characters.", error.ToString());
        Assert.Contains("Logging:File:Path: cannot write /x", error.ToString());
    }

    [Fact]
    public void A_bug_gathered_with_configuration_errors_is_not_passed_off_as_one()
    {
        using var error = new StringWriter();

        Assert.Throws<AggregateException>(() => StartupGuard.Run(
            () => throw new AggregateException(
                new OptionsValidationException("Auth", typeof(object), ["Auth:AdminToken must be at least 16 characters."]),
                new NullReferenceException()),
            error));
        Assert.Empty(error.ToString());
    }

    [Fact]
    public void A_value_the_binder_cannot_convert_is_told_with_its_key()
    {
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?> { ["Logging:Format"] = "xml" }).Build();
        using var error = new StringWriter();

        var exitCode = StartupGuard.Run(() => configuration.GetValue<LogFormat>("Logging:Format"), error);

        Assert.Equal(StartupGuard.ConfigurationErrorExitCode, exitCode);
        Assert.Contains("'xml' at 'Logging:Format'", error.ToString());
    }

    [Fact]
    public void Any_other_failure_is_not_mistaken_for_a_configuration_error()
    {
        using var error = new StringWriter();

        var thrown = Assert.Throws<InvalidOperationException>(() => StartupGuard.Run(() => throw new InvalidOperationException("a bug"), error));

        Assert.Equal("a bug", thrown.Message);
        Assert.Empty(error.ToString());
    }

    [Fact]
    public void A_host_that_runs_and_stops_ends_with_exit_code_0()
    {
        var ran = false;

        Assert.Equal(0, StartupGuard.Run(() => ran = true));
        Assert.True(ran);
    }
}
