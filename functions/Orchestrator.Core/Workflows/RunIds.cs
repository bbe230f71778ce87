using System.Buffers;

namespace Orchestrator.Core.Workflows;

/// <summary>What a run id looks like: generated here, and checked at every route before anything looks one up.</summary>
public static class RunIds
{
    public const int MaxLength = 64;

    /// <summary>Generated ids are 32 lowercase hex digits; accepted ids are a little wider but never hold a character a
    /// URL, an Azure Storage key or a Durable instance id treats specially (<c>/ \ # ?</c>, <c>%</c>, <c>.</c>, controls).</summary>
    public const string Rule = "a run id is 1 to 64 characters: letters, digits, '-' or '_'";

    private static readonly SearchValues<char> Allowed =
        SearchValues.Create("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_");

    public static string New() => Guid.NewGuid().ToString("N");

    public static bool IsValid(string? id) =>
        id is { Length: > 0 and <= MaxLength } && !id.AsSpan().ContainsAnyExcept(Allowed);
}
