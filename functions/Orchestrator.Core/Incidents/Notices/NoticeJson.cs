using System.Text.Json;

namespace Orchestrator.Core.Incidents.Notices;

/// <summary>How <see cref="NoticeContent"/> is written to <c>incident_notices.content</c> and to the generic webhook: camelCase JSON.</summary>
public static class NoticeJson
{
    public static JsonSerializerOptions Options { get; } = new(JsonSerializerDefaults.Web);
}
