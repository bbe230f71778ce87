using System.Globalization;
using System.Text.Json.Nodes;
using Orchestrator.Core.Templates;

namespace Orchestrator.Core.Incidents;

/// <summary>
/// The runbook's communication templates (INCIDENT DETECTED, UPDATE, ESCALATING to L2, INCIDENT RESOLVED) as Liquid,
/// rendered by the workflow language's template engine. <c>Monitors:Templates:&lt;Kind&gt;</c> replaces one.
/// </summary>
public sealed class NoticeTemplates
{
    public const string SectionName = "Monitors:Templates";

    public string Detected { get; set; } =
        """
        🚨 INCIDENT DETECTED 🚨
        Severity: {{ severity }}
        Incident: {{ title }}
        Impact: {{ impact }}
        Started: {{ started }}
        Owner: {{ owner }}
        Status: {{ status }}
        Measured: {{ summary }}
        Next step: {{ next_step }}
        ETA: {{ eta }}
        """;

    public string Update { get; set; } =
        """
        📊 UPDATE ({{ elapsed }})
        Incident: {{ title }}
        Current status: {{ status }}
        Progress: {{ summary }}
        Next step: {{ next_step }}
        ETA: {{ eta }}
        """;

    public string Escalation { get; set; } =
        """
        ESCALATING to L2
        Incident: {{ title }}
        Severity: {{ severity }}
        Duration: {{ duration }}
        Impact: {{ impact }}
        Attempted: {{ attempted }}
        Next step: {{ next_step }}
        """;

    public string Resolved { get; set; } =
        """
        ✅ INCIDENT RESOLVED
        Incident: {{ title }}
        Duration: {{ duration }}
        Root cause: {{ root_cause }}
        Fix: {{ fix }}
        Impact: {{ impact }}
        Follow-up:
        {% for line in follow_up %}- {{ line }}
        {% endfor %}
        """;

    /// <summary>The template of a notice kind.</summary>
    public string For(string kind) => kind switch
    {
        NoticeKind.Detected => Detected,
        NoticeKind.Update => Update,
        NoticeKind.Escalation => Escalation,
        NoticeKind.Resolved => Resolved,
        _ => throw new ArgumentOutOfRangeException(nameof(kind), kind, "not a notice kind"),
    };

    /// <summary>Each template's parse error, keyed by its setting; empty when all parse.</summary>
    public IEnumerable<string> Errors()
    {
        foreach (var (kind, source) in new[] { (nameof(Detected), Detected), (nameof(Update), Update), (nameof(Escalation), Escalation), (nameof(Resolved), Resolved) })
        {
            if (!TemplateEngine.TryParse(source, out _, out var error))
            {
                yield return $"{SectionName}:{kind}: the template does not parse: {error}";
            }
        }
    }

    /// <summary>Renders the template of <paramref name="kind"/> with the notice's fields (the first line is its headline).</summary>
    public string Render(string kind, NoticeFields fields, DateTimeOffset now)
    {
        var variables = new Dictionary<string, JsonNode?>(StringComparer.Ordinal)
        {
            ["severity"] = fields.Severity,
            ["title"] = fields.Title,
            ["impact"] = fields.Impact,
            ["started"] = fields.StartedAt.UtcDateTime.ToString("HH:mm 'UTC' (yyyy-MM-dd)", CultureInfo.InvariantCulture),
            ["owner"] = fields.Owner,
            ["status"] = fields.Status,
            ["summary"] = fields.Summary,
            ["next_step"] = fields.NextStep,
            ["eta"] = fields.Eta,
            ["elapsed"] = DurationWords.Of(fields.Elapsed),
            ["duration"] = DurationWords.Of(fields.Duration),
            ["attempted"] = fields.Attempted,
            ["root_cause"] = fields.RootCause ?? "under investigation",
            ["fix"] = fields.Fix ?? "",
            ["follow_up"] = new JsonArray(fields.FollowUp.Select(line => (JsonNode?)line).ToArray()),
            ["incident_id"] = fields.IncidentId.ToString(),
            ["facts"] = new JsonObject(fields.Facts.Select(f => KeyValuePair.Create(f.Key, (JsonNode?)f.Value))),
        };
        return TemplateEngine.Render(For(kind), new TemplateModel(variables, now)).Trim();
    }
}

/// <summary>What a notice template may say.</summary>
public sealed record NoticeFields(
    Guid IncidentId,
    string Severity,
    string Title,
    string Impact,
    DateTimeOffset StartedAt,
    string Owner,
    string Status,
    string Summary,
    string NextStep,
    string Eta,
    TimeSpan Elapsed,
    TimeSpan Duration,
    string Attempted,
    string? RootCause,
    string? Fix,
    IReadOnlyList<string> FollowUp,
    IReadOnlyList<KeyValuePair<string, string>> Facts);
