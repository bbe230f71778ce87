using Orchestrator.Core.Persistence;

namespace Orchestrator.Core.Incidents;

/// <summary>A keyset position in the incident list (newest first): the last incident's opening time and id; opaque to clients.</summary>
public sealed record IncidentListCursor(DateTimeOffset OpenedAt, Guid Id)
{
    public string Encode() => KeysetCursor.Encode(OpenedAt, Id.ToString("D"));

    public static bool TryDecode(string text, out IncidentListCursor? cursor)
    {
        cursor = KeysetCursor.TryDecode(text, id => Guid.TryParseExact(id, "D", out _), out var at, out var id)
            ? new IncidentListCursor(at, Guid.ParseExact(id, "D"))
            : null;
        return cursor is not null;
    }
}
