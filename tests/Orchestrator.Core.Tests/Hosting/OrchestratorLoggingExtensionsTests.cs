using System.Text.Json.Nodes;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Orchestrator.Core.Hosting;

namespace Orchestrator.Core.Tests.Hosting;

/// <summary>The file sink: JSON lines with scope values as fields, rotated by size, old files deleted.</summary>
public sealed class OrchestratorLoggingExtensionsTests : IDisposable
{
    private static readonly Action<ILogger, int, Exception?> FillerLine =
        LoggerMessage.Define<int>(LogLevel.Information, new EventId(1), "Line {Number} of a test that fills several files");

    private readonly string folder = Path.Combine(Path.GetTempPath(), "orch-log-" + Guid.NewGuid().ToString("N")[..8]);

    public void Dispose()
    {
        if (Directory.Exists(folder))
        {
            Directory.Delete(folder, recursive: true);
        }
    }

    [Fact]
    public void The_file_sink_rotates_by_size_and_keeps_only_the_retained_files()
    {
        using (var services = Logging(new()
        {
            ["Logging:Format"] = "Host",
            ["Logging:File:Path"] = folder,
            ["Logging:File:MaxFileSizeBytes"] = "4096",
            ["Logging:File:RetainedFiles"] = "3",
        }))
        {
            var logger = services.GetRequiredService<ILoggerFactory>().CreateLogger("Rotation");
            using (logger.BeginScope(new Dictionary<string, object> { ["RunId"] = "run-1", ["StepId"] = "s1" }))
            {
                for (var i = 0; i < 200; i++)
                {
                    FillerLine(logger, i, null);
                }
            }
        }

        var files = Directory.GetFiles(folder).Order().ToList();
        Assert.Equal(3, files.Count);
        // A file is closed once it reaches the limit, so the line that crosses it still goes in.
        Assert.All(files, file => Assert.InRange(new FileInfo(file).Length, 1, 4096 + 1024));
        var lines = files.SelectMany(File.ReadAllLines).Select(line => JsonNode.Parse(line)!.AsObject()).ToList();
        Assert.All(lines, line => Assert.Equal(("run-1", "s1"), (line["RunId"]!.GetValue<string>(), line["StepId"]!.GetValue<string>())));
        // The oldest lines went with the deleted files; the newest is kept.
        Assert.Contains(lines, line => line["Number"]!.GetValue<int>() == 199);
        Assert.DoesNotContain(lines, line => line["Number"]!.GetValue<int>() == 0);
    }

    [Fact]
    public void Logging_levels_still_apply_to_the_file_sink()
    {
        using (var services = Logging(new()
        {
            ["Logging:Format"] = "Host",
            ["Logging:File:Path"] = folder,
            ["Logging:LogLevel:Default"] = "Warning",
        }))
        {
            var logger = services.GetRequiredService<ILoggerFactory>().CreateLogger("Levels");
            logger.LogInformation("dropped");
            logger.LogWarning("kept");
        }

        var lines = File.ReadAllLines(Path.Combine(folder, LogFileOptions.FileName));
        Assert.Equal(["kept"], lines.Select(line => JsonNode.Parse(line)!["@m"]!.GetValue<string>()));
    }

    [Fact]
    public void A_bad_file_setting_is_an_error_naming_the_key()
    {
        var error = Assert.Throws<OptionsValidationException>(() => Logging(new() { ["Logging:File:Path"] = folder, ["Logging:File:MaxFileSizeBytes"] = "10" }));

        Assert.Contains("Logging:File:MaxFileSizeBytes", error.Message);
    }

    private static ServiceProvider Logging(Dictionary<string, string?> settings)
    {
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(settings).Build();
        return new ServiceCollection()
            .AddLogging(logging =>
            {
                logging.AddConfiguration(configuration.GetSection("Logging"));
                logging.AddOrchestratorLogging(configuration);
            })
            .BuildServiceProvider();
    }
}
