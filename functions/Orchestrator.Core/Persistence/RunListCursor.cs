namespace Orchestrator.Core.Persistence;

/// <summary>
/// A keyset position in the run list (newest first): the last run's creation time, to the microsecond PostgreSQL
/// keeps, and its id. Opaque to clients (base64url); anything that does not decode to a valid position is refused.
/// </summary>
public sealed record RunListCursor(DateTimeOffset CreatedAt, string Id)
{
    public string Encode() => KeysetCursor.Encode(CreatedAt, Id);

    public static bool TryDecode(string text, out RunListCursor? cursor)
    {
        cursor = KeysetCursor.TryDecode(text, Workflows.RunIds.IsValid, out var at, out var id) ? new RunListCursor(at, id) : null;
        return cursor is not null;
    }
}
