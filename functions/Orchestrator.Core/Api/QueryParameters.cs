using System.Globalization;
using Microsoft.AspNetCore.Http;
using Microsoft.DurableTask.Client;
using Orchestrator.Core.Definitions;

namespace Orchestrator.Core.Api;

/// <summary>
/// Reads query parameters strictly (the run list, the audit log, the Durable HTTP API): a value that does not parse,
/// a parameter given twice or one the route does not know is an error naming the parameter, where the Functions host
/// would silently ignore it and answer a different question. Errors are collected so all are reported at once.
/// </summary>
internal static class QueryParameters
{
    /// <summary>The most instances one Durable list page may hold; Azure Table storage returns at most 1000 rows per request.</summary>
    public const int MaxTop = 1000;

    /// <summary>An error for every parameter that is not one of <paramref name="known"/>.</summary>
    public static void Known(IQueryCollection query, IReadOnlyCollection<string> known, List<DefinitionError> errors)
    {
        foreach (var name in query.Keys.Where(k => !known.Contains(k)))
        {
            errors.Add(new DefinitionError(name, $"unknown query parameter '{name}'; expected {string.Join(", ", known)}"));
        }
    }

    /// <summary>
    /// Comma-separated values, each one of <paramref name="allowed"/> (matched without regard to case, returned as
    /// spelt there); null when the parameter is absent. Present but empty is an error. With
    /// <paramref name="repeatable"/> the parameter may also be given more than once (<c>?severity=P0&amp;severity=P1</c>).
    /// </summary>
    public static IReadOnlyList<string>? OneOf(
        IQueryCollection query, string name, IReadOnlyList<string> allowed, List<DefinitionError> errors, bool repeatable = false)
    {
        if (!query.TryGetValue(name, out var raw))
        {
            return null;
        }

        var before = errors.Count;
        var texts = repeatable ? raw.Select(v => v ?? "") : [Single(query, name, errors) ?? ""];
        var given = texts.SelectMany(t => t.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries)).ToList();
        if (errors.Count > before)
        {
            return null;
        }

        var values = given.Select(v => allowed.FirstOrDefault(a => a.Equals(v, StringComparison.OrdinalIgnoreCase))).ToList();
        if (values.Count == 0 || values.Any(v => v is null))
        {
            errors.Add(new DefinitionError(name, $"must be one or more of {string.Join(", ", allowed)}, comma-separated"));
            return null;
        }

        return values.Distinct().ToList()!;
    }

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

        // Years outside 2000-9999 are typos, and would overflow PostgreSQL's and Azure Storage's ranges.
        if (DateTimeOffset.TryParse(value, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var time) && time.Year is >= 2000 and <= 9999)
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

    /// <summary>A page size from 1 to <paramref name="max"/>.</summary>
    public static int PageSize(IQueryCollection query, string name, int fallback, int max, List<DefinitionError> errors)
    {
        if (Single(query, name, errors) is not { } value)
        {
            return fallback;
        }

        if (int.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out var size) && size >= 1 && size <= max)
        {
            return size;
        }

        errors.Add(new DefinitionError(name, $"'{value}' is not a page size; use a whole number from 1 to {max}"));
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
