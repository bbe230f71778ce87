using System.Globalization;
using Microsoft.AspNetCore.Http;
using Microsoft.DurableTask.Client;
using Orchestrator.Core.Definitions;

namespace Orchestrator.Core.Api;

/// <summary>
/// Reads the Durable HTTP API's query parameters strictly: a value that does not parse is an error naming the
/// parameter, where the Functions host would silently ignore it and answer a different question.
/// </summary>
internal static class DurableQueryString
{
    /// <summary>The most instances one page may hold; Azure Table storage returns at most 1000 rows per request.</summary>
    public const int MaxTop = 1000;

    private static readonly Dictionary<string, OrchestrationRuntimeStatus> StatusNames =
        Enum.GetValues<OrchestrationRuntimeStatus>().ToDictionary(s => s.ToString(), StringComparer.OrdinalIgnoreCase);

    public static bool Flag(IQueryCollection query, string name, bool fallback, List<DefinitionError> errors)
    {
        if (Single(query, name, errors) is not { } value)
        {
            return fallback;
        }

        if (bool.TryParse(value, out var flag))
        {
            return flag;
        }

        errors.Add(new DefinitionError(name, $"'{value}' is not a boolean; use true or false"));
        return fallback;
    }

    public static DateTimeOffset? Time(IQueryCollection query, string name, List<DefinitionError> errors)
    {
        if (Single(query, name, errors) is not { } value)
        {
            return null;
        }

        if (DateTimeOffset.TryParse(value, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var time))
        {
            return time;
        }

        var hint = value.Contains(' ', StringComparison.Ordinal) ? " (a '+' in an offset must be sent as %2B)" : "";
        errors.Add(new DefinitionError(name, $"'{value}' is not an ISO 8601 timestamp such as 2024-05-01T12:00:00Z{hint}"));
        return null;
    }

    /// <summary>Comma-separated and/or repeated status names; null when the parameter is absent.</summary>
    public static IReadOnlyList<OrchestrationRuntimeStatus>? Statuses(IQueryCollection query, string name, List<DefinitionError> errors)
    {
        if (!query.TryGetValue(name, out var values))
        {
            return null;
        }

        var statuses = new List<OrchestrationRuntimeStatus>();
        foreach (var part in values.SelectMany(v => (v ?? "").Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries)))
        {
            if (StatusNames.TryGetValue(part, out var status))
            {
                statuses.Add(status);
            }
            else
            {
                errors.Add(new DefinitionError(name, $"unknown runtime status '{part}'; expected one or more of {string.Join(", ", StatusNames.Keys)}"));
            }
        }

        return statuses.Count == 0 ? null : statuses.Distinct().ToList();
    }

    public static int Top(IQueryCollection query, string name, int fallback, List<DefinitionError> errors)
    {
        if (Single(query, name, errors) is not { } value)
        {
            return fallback;
        }

        if (int.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out var top) && top is >= 1 and <= MaxTop)
        {
            return top;
        }

        errors.Add(new DefinitionError(name, $"'{value}' is not a page size; use a whole number from 1 to {MaxTop}"));
        return fallback;
    }

    public static string? Text(IQueryCollection query, string name, List<DefinitionError> errors) => Single(query, name, errors);

    /// <summary>The parameter's one value; null when absent or empty. A parameter given twice is an error.</summary>
    private static string? Single(IQueryCollection query, string name, List<DefinitionError> errors)
    {
        if (!query.TryGetValue(name, out var values) || values.Count == 0)
        {
            return null;
        }

        if (values.Count > 1)
        {
            errors.Add(new DefinitionError(name, "given more than once"));
            return null;
        }

        return string.IsNullOrEmpty(values[0]) ? null : values[0];
    }
}
