using System.Globalization;
using System.Text.Json.Nodes;

namespace Orchestrator.Core.Incidents.Notices;

/// <summary>
/// PagerDuty Events API v2: a <c>trigger</c> event (detected, escalation, update) or a <c>resolve</c> (resolved), with
/// <c>dedup_key</c> = the incident's id so every event lands on one alert, and the runbook's severity mapped to
/// PagerDuty's (P0 critical, P1 error, P2 warning, P3 info). PagerDuty answers 202; 400 is a malformed event.
/// </summary>
public sealed class PagerDutyNoticeFormatter : NoticeFormatter
{
    private const int SummaryMax = 1024;

    public override string Channel => NoticeChannel.PagerDuty;

    public override bool IsConfigured(NoticeOptions options) => options.PagerDuty.IsConfigured;

    public override IEnumerable<string?> Secrets(NoticeOptions options) => [options.PagerDuty.RoutingKey];

    /// <summary>PagerDuty's severity for one of the runbook's.</summary>
    public static string SeverityOf(string severity) => Enum.TryParse<Severity>(severity, out var parsed)
        ? parsed switch
        {
            Severity.P0 => "critical",
            Severity.P1 => "error",
            Severity.P2 => "warning",
            _ => "info",
        }
        : "error";

    public override HttpRequestMessage CreateRequest(long noticeId, NoticeContent content, NoticeOptions options, DateTimeOffset now)
    {
        var resolve = content.Kind == NoticeKind.Resolved;
        var body = new JsonObject
        {
            ["routing_key"] = options.PagerDuty.RoutingKey,
            ["event_action"] = resolve ? "resolve" : "trigger",
            ["dedup_key"] = content.IncidentId.ToString(),
        };
        if (!resolve)
        {
            var details = new JsonObject();
            foreach (var (name, value) in NoticeFields.Of(content))
            {
                details[name] = value;
            }

            details["Notice"] = content.Headline;
            body["payload"] = new JsonObject
            {
                ["summary"] = NoticeFields.Truncate($"[{content.Severity}] {content.Title}", SummaryMax),
                ["source"] = content.DedupKey,
                ["severity"] = SeverityOf(content.Severity),
                ["timestamp"] = content.At.ToUniversalTime().ToString("o", CultureInfo.InvariantCulture),
                ["component"] = content.CheckName,
                ["group"] = "llm-orchestrator",
                ["class"] = content.Kind,
                ["custom_details"] = details,
            };
        }

        return PostJson(options.PagerDuty.EventsUrl, body);
    }
}
