using Microsoft.Extensions.Options;

namespace Orchestrator.Core.Hosting;

/// <summary>
/// Runs a host's start-up so that a bad setting ends the process with the message naming the key and exit code 78
/// (EX_CONFIG), instead of an unhandled exception: a stack trace, a core dump and exit code 134 that tell the on-call
/// engineer nothing more and look like a crash to the container runtime.
/// </summary>
public static class StartupGuard
{
    /// <summary>sysexits.h's EX_CONFIG: the configuration is wrong, restarting will not help.</summary>
    public const int ConfigurationErrorExitCode = 78;

    public static int Run(Action main, TextWriter? error = null)
    {
        ArgumentNullException.ThrowIfNull(main);
        try
        {
            main();
            return 0;
        }
        catch (Exception ex) when (Describe(ex) is { } message)
        {
            (error ?? Console.Error).WriteLine($"llm-orchestrator cannot start, fix the configuration: {message}");
            return ConfigurationErrorExitCode;
        }
    }

    /// <summary>The operator's message for a configuration error (also when the host wrapped it), or null for any other failure.</summary>
    public static string? Describe(Exception ex) => ex switch
    {
        OptionsValidationException options => string.Join(Environment.NewLine, options.Failures),
        InvalidConfigurationException configuration => configuration.Message,

        // The configuration binder's own failure to convert a value ('xml' for an enum, 'abc' for a TimeSpan).
        InvalidOperationException { InnerException: { } inner } binder
            when binder.Message.StartsWith("Failed to convert configuration value", StringComparison.Ordinal) => $"{binder.Message} {inner.Message}",
        AggregateException { InnerExceptions.Count: 1 } aggregate => Describe(aggregate.InnerExceptions[0]),
        _ => null,
    };
}
