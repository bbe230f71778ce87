using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Console;
using Serilog;
using Serilog.Extensions.Logging;

namespace Orchestrator.Core.Hosting;

/// <summary>Structured logs for a self-hosted box: JSON lines on stdout and, optionally, in rotated files.</summary>
public static class OrchestratorLoggingExtensions
{
    /// <summary>
    /// Applies <c>Logging:Format</c> (default <paramref name="defaultFormat"/>) and <c>Logging:File:*</c>. Levels
    /// still come from <c>Logging:LogLevel</c>; scopes (run id, step id) and the trace and span ids of the current
    /// span become fields of every JSON line. A bad value throws here, naming the key.
    /// </summary>
    public static ILoggingBuilder AddOrchestratorLogging(this ILoggingBuilder logging, IConfiguration configuration, LogFormat defaultFormat = LogFormat.Json)
    {
        var options = new LogOutputOptions { Format = defaultFormat };
        configuration.GetSection(LogOutputOptions.SectionName).Bind(options);
        SectionValidation.ThrowIfInvalid(options.File, LogFileOptions.SectionName);

        logging.Configure(o => o.ActivityTrackingOptions = ActivityTrackingOptions.TraceId | ActivityTrackingOptions.SpanId | ActivityTrackingOptions.ParentId);
        var serilog = new LoggerConfiguration().MinimumLevel.Verbose();
        var useSerilog = false;
        switch (options.Format)
        {
            case LogFormat.Json:
                RemoveConsoleProvider(logging.Services);
                serilog.WriteTo.Console(new JsonLineFormatter());
                useSerilog = true;
                break;
            case LogFormat.Simple:
                logging.AddSimpleConsole(o =>
                {
                    o.SingleLine = true;
                    o.IncludeScopes = true;
                    o.TimestampFormat = "HH:mm:ss.fff ";
                });
                break;
        }

        if (!string.IsNullOrWhiteSpace(options.File.Path))
        {
            var file = PrepareFile(options.File.Path);
            serilog.WriteTo.File(
                new JsonLineFormatter(),
                file,
                fileSizeLimitBytes: options.File.MaxFileSizeBytes,
                rollOnFileSizeLimit: true,
                retainedFileCountLimit: options.File.RetainedFiles);
            useSerilog = true;
        }

        if (useSerilog)
        {
            // Registered as a plain provider, not with AddSerilog (which adds a Trace-level filter rule for Serilog): Serilog
            // only writes, and Logging:LogLevel filters before it, as for every other provider.
            var logger = serilog.CreateLogger();
            logging.Services.AddSingleton<ILoggerProvider>(_ => new SerilogLoggerProvider(logger, dispose: true));
        }

        return logging;
    }

    private static void RemoveConsoleProvider(IServiceCollection services)
    {
        foreach (var descriptor in services.Where(d => d.ServiceType == typeof(ILoggerProvider) && d.ImplementationType == typeof(ConsoleLoggerProvider)).ToList())
        {
            services.Remove(descriptor);
        }
    }

    /// <summary>Creates the directory and opens the file once, so an unwritable location stops the start instead of losing every line.</summary>
    private static string PrepareFile(string directory)
    {
        var path = Path.Combine(Path.GetFullPath(directory), LogFileOptions.FileName);
        try
        {
            Directory.CreateDirectory(Path.GetDirectoryName(path)!);
            using var probe = new FileStream(path, FileMode.Append, FileAccess.Write, FileShare.ReadWrite);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            throw new InvalidConfigurationException($"{LogFileOptions.SectionName}:Path: cannot write {path}: {ex.Message}", ex);
        }

        return path;
    }
}
