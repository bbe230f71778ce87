using System.Globalization;

namespace Orchestrator.Core.Monitoring.Checks;

/// <summary>How the checks write the values of their facts: units always, invariant culture, UTC times.</summary>
internal static class FactText
{
    public static string Seconds(TimeSpan value) => value <= TimeSpan.Zero
        ? "0 s"
        : string.Create(CultureInfo.InvariantCulture, $"{value.TotalSeconds:0.0} s");

    public static string Duration(TimeSpan value) => value.TotalSeconds < 120
        ? Seconds(value)
        : value.TotalMinutes < 120
            ? string.Create(CultureInfo.InvariantCulture, $"{value.TotalMinutes:0} min")
            : string.Create(CultureInfo.InvariantCulture, $"{value.TotalHours:0.#} h");

    public static string Bytes(decimal value)
    {
        var bytes = Math.Max(0, value);
        return bytes switch
        {
            < 1024 => string.Create(CultureInfo.InvariantCulture, $"{bytes:0} B"),
            < 1024 * 1024 => string.Create(CultureInfo.InvariantCulture, $"{bytes / 1024:0.0} KiB"),
            < 1024L * 1024 * 1024 => string.Create(CultureInfo.InvariantCulture, $"{bytes / (1024 * 1024):0.0} MiB"),
            _ => string.Create(CultureInfo.InvariantCulture, $"{bytes / (1024L * 1024 * 1024):0.00} GiB"),
        };
    }

    public static string Count(double value) => value.ToString("0", CultureInfo.InvariantCulture);

    public static string Percent(double ratio) => string.Create(CultureInfo.InvariantCulture, $"{ratio * 100:0.#} %");

    public static string Time(DateTimeOffset value) => value.UtcDateTime.ToString("yyyy-MM-dd HH:mm:ss 'UTC'", CultureInfo.InvariantCulture);

    public static string Clock(DateTimeOffset value) => value.UtcDateTime.ToString("HH:mm:ss", CultureInfo.InvariantCulture);

    public static string YesNo(bool value) => value ? "yes" : "no";
}
