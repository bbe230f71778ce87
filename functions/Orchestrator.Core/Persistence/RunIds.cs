namespace Orchestrator.Core.Persistence;

/// <summary>What a run id may look like: the ids the product generates (32 hex digits) and any Durable-style id of letters, digits, '-', '_', '.', ':' up to 100 characters.</summary>
public static class RunIds
{
    public const int MaxLength = 100;

    public static bool IsValid(string? id) =>
        id is { Length: > 0 and <= MaxLength } && id.All(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '_' or '.' or ':') && id is not ("." or "..");
}
