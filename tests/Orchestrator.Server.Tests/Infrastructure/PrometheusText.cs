using System.Globalization;

namespace Orchestrator.Server.Tests.Infrastructure;

/// <summary>Reads sample values out of a Prometheus text exposition.</summary>
public static class PrometheusText
{
    /// <summary>The value of the sample named exactly <paramref name="series"/> (with its labels, e.g. <c>x{status="Failed"}</c>).</summary>
    public static double Value(string exposition, string series)
    {
        foreach (var line in exposition.Split('\n'))
        {
            if (line.StartsWith(series + " ", StringComparison.Ordinal))
            {
                return double.Parse(line[(series.Length + 1)..].Trim(), CultureInfo.InvariantCulture);
            }
        }

        throw new KeyNotFoundException($"no sample {series} in:\n{exposition}");
    }

    public static bool Has(string exposition, string series) =>
        exposition.Split('\n').Any(line => line.StartsWith(series + " ", StringComparison.Ordinal));
}
