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

    /// <summary>What the one line on standard error begins with; the failures follow.</summary>
    public const string MessagePrefix = "llm-orchestrator cannot start, fix the configuration: ";

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
            (error ?? Console.Error).WriteLine(MessagePrefix + message);
            return ConfigurationErrorExitCode;
        }
    }

    /// <summary>The operator's message for a configuration error, or null for any other failure.</summary>
    private static string? Describe(Exception ex) => ex switch
    {
        OptionsValidationException options => string.Join(Environment.NewLine, options.Failures),
        InvalidConfigurationException configuration => configuration.Message,

        // The configuration binder's own failure to convert a value ('xml' for an enum, 'abc' for a TimeSpan).
        InvalidOperationException { Source: BinderAssembly, InnerException: { } inner } binder => $"{binder.Message} {inner.Message}",

        // ValidateOnStart gathers the failures of every options class into one AggregateException.
        AggregateException aggregate => DescribeAll(aggregate.Flatten().InnerExceptions),
        _ => null,
    };

    private const string BinderAssembly = "Microsoft.Extensions.Configuration.Binder";

    /// <summary>Every failure's message, or null when any of them is not a configuration error (a bug must not pass for one).</summary>
    private static string? DescribeAll(IReadOnlyCollection<Exception> failures)
    {
        var messages = failures.Select(Describe).ToList();
        return messages.Count > 0 && messages.All(message => message is not null) ? string.Join(Environment.NewLine, messages) : null;
    }
}
