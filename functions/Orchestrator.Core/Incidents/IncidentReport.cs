using System.Globalization;
using System.Text;
using System.Text.Json;

namespace Orchestrator.Core.Incidents;

/// <summary>
/// The runbook's "Write incident summary", done for the engineer: an incident's times, duration, impact on the runs,
/// what the check measured, its timeline, the notices and how each was delivered, and the runbook's post-incident
/// checklist. Markdown; text that came from outside (a receiver's error) is flattened so it cannot break the layout.
/// </summary>
public static class IncidentReport
{
    private const string TimeFormat = "yyyy-MM-dd HH:mm:ss 'UTC'";

    public static string Render(IncidentDetail detail, IncidentImpact impact, DateTimeOffset now)
    {
        var incident = detail.Incident;
        var md = new StringBuilder();
        Line(md, $"# Incident summary: {Inline(incident.Title)}");
        Line(md);
        Line(md, "| | |");
        Line(md, "|---|---|");
        Row(md, "Incident", $"`{incident.Id:D}`");
        Row(md, "Severity", $"{incident.Severity} ({SeverityMeaning(incident.Severity)})");
        Row(md, "Status", StatusText(incident));
        Row(md, "Check", $"{Cell(incident.CheckName)} (`{Cell(incident.DedupKey)}`)");
        Row(md, "Started", $"{At(incident.StartedAt)} (the condition was first seen)");
        Row(md, "Opened", At(incident.OpenedAt));
        Row(md, "Acknowledged", incident.AcknowledgedAt is { } ack ? $"{At(ack)} by {Cell(incident.AcknowledgedBy ?? "unknown")}" : "no");
        Row(md, "Escalated to L2", incident.EscalatedAt is { } escalated ? At(escalated) : "no");
        Row(md, "Resolved", incident.ResolvedAt is { } resolved ? $"{At(resolved)} by {Cell(incident.ResolvedBy ?? "unknown")}" : "not yet");
        var duration = (incident.ResolvedAt ?? now) - incident.StartedAt;
        Row(md, "Duration", Duration(duration) + (incident.ResolvedAt is null ? " so far" : ""));
        Row(md, "Recovery target (RTO)", Duration(TimeSpan.FromSeconds(incident.RtoSeconds)));
        Line(md);

        Line(md, "## Impact");
        Line(md);
        Line(md, Paragraph(incident.Impact));
        Line(md);
        Line(md, $"Between {At(impact.From)} and {At(impact.To)}:");
        Line(md);
        Line(md, $"- Runs that failed: {impact.RunsFailed.ToString(CultureInfo.InvariantCulture)}");
        Line(md, $"- Runs in flight (delayed or failed): {impact.RunsInFlight.ToString(CultureInfo.InvariantCulture)}");
        Line(md);

        Line(md, "## What the check measured");
        Line(md);
        Line(md, Paragraph(incident.Summary));
        var facts = Facts(incident.FactsJson);
        if (facts.Count > 0)
        {
            Line(md);
            foreach (var (name, value) in facts)
            {
                Line(md, $"- **{Inline(name)}**: {Inline(value)}");
            }
        }

        Line(md);
        Line(md, "Next step as the check advised it: " + Inline(incident.NextStep));
        if (incident.Resolution is { Length: > 0 } resolution)
        {
            Line(md);
            Line(md, "## Resolution");
            Line(md);
            Line(md, Paragraph(resolution));
        }

        Line(md);
        Line(md, "## Timeline");
        Line(md);
        Line(md, "| Time | Event | By | Detail |");
        Line(md, "|---|---|---|---|");
        foreach (var change in detail.Events)
        {
            Line(md, $"| {At(change.At)} | {Cell(change.Kind)} | {Cell(change.Actor)} | {Cell(DetailText(change.DetailJson))} |");
        }

        Line(md);
        Line(md, "## Notices");
        Line(md);
        if (detail.Notices.Count == 0)
        {
            Line(md, "No notice was written for this incident (no channel is configured for its severity).");
        }
        else
        {
            foreach (var channel in detail.Notices.GroupBy(n => n.Channel))
            {
                var counts = string.Join(", ", channel.GroupBy(n => n.Status).Select(s => $"{s.Count().ToString(CultureInfo.InvariantCulture)} {s.Key}"));
                Line(md, $"- **{Cell(channel.Key)}**: {counts}");
            }

            Line(md);
            Line(md, "| Channel | Notice | Status | Attempts | Written | Sent | Last HTTP status | Last error |");
            Line(md, "|---|---|---|---|---|---|---|---|");
            foreach (var notice in detail.Notices)
            {
                var kind = notice.Kind == NoticeKind.Update ? $"update {notice.Sequence.ToString(CultureInfo.InvariantCulture)}" : notice.Kind;
                Line(md, $"| {Cell(notice.Channel)} | {Cell(kind)} | {Cell(notice.Status)} | {notice.Attempts.ToString(CultureInfo.InvariantCulture)} | " +
                    $"{At(notice.CreatedAt)} | {(notice.SentAt is { } sent ? At(sent) : "")} | " +
                    $"{notice.LastStatusCode?.ToString(CultureInfo.InvariantCulture)} | {Cell(notice.LastError ?? "")} |");
            }
        }

        Line(md);
        Line(md, "## Follow-up");
        Line(md);
        Line(md, "Immediate (within 1 hour):");
        Line(md);
        Line(md, "- [ ] Update status page (resolved)");
        Line(md, "- [ ] Verify system stable for 30 minutes");
        Line(md, "- [ ] Document in incident log");
        Line(md, "- [ ] Thank responders");
        Line(md);
        Line(md, "Within 24 hours:");
        Line(md);
        Line(md, "- [x] Write incident summary (this document)");
        Line(md, "- [ ] Update affected customers (if external)");
        Line(md, "- [ ] Schedule post-mortem");
        Line(md, "- [ ] Create follow-up tickets");
        Line(md);
        Line(md, "Within 1 week:");
        Line(md);
        Line(md, "- [ ] Conduct post-mortem (blameless)");
        Line(md, "- [ ] Update runbooks");
        Line(md, "- [ ] Implement preventive measures");
        Line(md, "- [ ] Update monitoring/alerts");
        Line(md);
        Line(md, $"_Written {At(now)}._");
        return md.ToString();
    }

    /// <summary>"23 minutes", "1 h 5 min", "45 s": the runbook's "Duration:" line.</summary>
    public static string Duration(TimeSpan duration)
    {
        if (duration < TimeSpan.Zero)
        {
            duration = TimeSpan.Zero;
        }

        var c = CultureInfo.InvariantCulture;
        return duration switch
        {
            { TotalMinutes: < 1 } => string.Create(c, $"{(int)duration.TotalSeconds} s"),
            { TotalHours: < 1 } => string.Create(c, $"{(int)duration.TotalMinutes} minutes"),
            { TotalDays: < 1 } => string.Create(c, $"{(int)duration.TotalHours} h {duration.Minutes} min"),
            _ => string.Create(c, $"{(int)duration.TotalDays} d {duration.Hours} h"),
        };
    }

    private static string SeverityMeaning(string severity) => severity switch
    {
        "P0" => "critical, 15 min response",
        "P1" => "high, 30 min response",
        "P2" => "medium, 1 hour response",
        _ => "low, 4 hour response",
    };

    private static string StatusText(IncidentRecord incident) => incident.Status switch
    {
        IncidentStatus.Resolved => "Resolved",
        IncidentStatus.Acknowledged => "Acknowledged, not resolved",
        _ => "Open",
    };

    /// <summary>The check's measurements: a JSON object (name to value) or a list of key/value pairs, as stored.</summary>
    private static List<(string Name, string Value)> Facts(string json)
    {
        using var document = JsonDocument.Parse(json);
        var facts = new List<(string, string)>();
        switch (document.RootElement.ValueKind)
        {
            case JsonValueKind.Object:
                facts.AddRange(document.RootElement.EnumerateObject().Select(p => (p.Name, Scalar(p.Value))));
                break;
            case JsonValueKind.Array:
                foreach (var item in document.RootElement.EnumerateArray())
                {
                    if (item.ValueKind == JsonValueKind.Object && Property(item, "key") is { } key)
                    {
                        facts.Add((Scalar(key), Property(item, "value") is { } value ? Scalar(value) : ""));
                    }
                    else if (item.ValueKind == JsonValueKind.Array && item.GetArrayLength() == 2)
                    {
                        facts.Add((Scalar(item[0]), Scalar(item[1])));
                    }
                }

                break;
        }

        return facts;
    }

    private static JsonElement? Property(JsonElement item, string name) =>
        item.EnumerateObject().Where(p => p.Name.Equals(name, StringComparison.OrdinalIgnoreCase)).Select(p => (JsonElement?)p.Value).FirstOrDefault();

    private static string DetailText(string? json)
    {
        if (json is null)
        {
            return "";
        }

        using var document = JsonDocument.Parse(json);
        return document.RootElement.ValueKind == JsonValueKind.Object
            ? string.Join(", ", document.RootElement.EnumerateObject().Select(p => $"{p.Name}: {Scalar(p.Value)}"))
            : Scalar(document.RootElement);
    }

    private static string Scalar(JsonElement value) => value.ValueKind switch
    {
        JsonValueKind.String => value.GetString() ?? "",
        JsonValueKind.Null => "",
        _ => value.GetRawText(),
    };

    private static string At(DateTimeOffset at) => at.UtcDateTime.ToString(TimeFormat, CultureInfo.InvariantCulture);

    private static void Row(StringBuilder md, string name, string value) => Line(md, $"| {name} | {value} |");

    private static void Line(StringBuilder md, string text = "") => md.Append(text).Append('\n');

    /// <summary>One line of text: line breaks become spaces.</summary>
    private static string Inline(string text) => string.Join(' ', text.Split(['\r', '\n'], StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries));

    /// <summary>A table cell: one line, at most 300 characters, pipes escaped.</summary>
    private static string Cell(string text)
    {
        var line = Inline(text);
        return (line.Length > 300 ? line[..300] + "…" : line).Replace("|", "\\|", StringComparison.Ordinal);
    }

    /// <summary>Free text as a paragraph; an empty one says so rather than leaving a hole.</summary>
    private static string Paragraph(string text) => string.IsNullOrWhiteSpace(text) ? "_Not recorded._" : text.Trim();
}
