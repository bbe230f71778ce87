using System.ComponentModel.DataAnnotations;

namespace Orchestrator.Core.Incidents;

/// <summary>
/// <c>Notices:*</c>: where incident notices go. A channel without its URL (or routing key) is off. URLs, keys and the
/// webhook secret are secrets: configuration or environment only (Key Vault references on Azure), never logged.
/// </summary>
public sealed class NoticeOptions
{
    public const string SectionName = "Notices";

    public SlackNoticeOptions Slack { get; set; } = new();

    public TeamsNoticeOptions Teams { get; set; } = new();

    public PagerDutyNoticeOptions PagerDuty { get; set; } = new();

    public WebhookNoticeOptions Webhook { get; set; } = new();

    /// <summary>How long a sender holds a claimed notice; a sender that dies lets another take it after this.</summary>
    [Range(typeof(TimeSpan), "00:00:01", "00:10:00")]
    public TimeSpan ClaimLease { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>The longest one delivery attempt may take.</summary>
    [Range(typeof(TimeSpan), "00:00:00.100", "00:05:00")]
    public TimeSpan RequestTimeout { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>The first retry's delay after a transient failure; it doubles up to <see cref="MaxBackoff"/> (a <c>Retry-After</c> is honoured).</summary>
    [Range(typeof(TimeSpan), "00:00:00.010", "00:10:00")]
    public TimeSpan InitialBackoff { get; set; } = TimeSpan.FromSeconds(1);

    [Range(typeof(TimeSpan), "00:00:00.010", "01:00:00")]
    public TimeSpan MaxBackoff { get; set; } = TimeSpan.FromMinutes(5);

    /// <summary>How often a sender looks for notices when it was not woken by a new one.</summary>
    [Range(typeof(TimeSpan), "00:00:00.010", "00:10:00")]
    public TimeSpan PollInterval { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>The longest one statement on the notice ledger may take (claim, mark, the health check's read).</summary>
    [Range(typeof(TimeSpan), "00:00:00.100", "00:01:00")]
    public TimeSpan DatabaseTimeout { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>The channels a notice of <paramref name="kind"/> for an incident of <paramref name="severity"/> goes to.</summary>
    public IReadOnlyList<string> ChannelsFor(Severity severity, string kind)
    {
        var channels = new List<string>();
        if (Slack.IsConfigured && Slack.Hears(severity))
        {
            channels.Add(NoticeChannel.Slack);
        }

        if (Teams.IsConfigured && Teams.Hears(severity))
        {
            channels.Add(NoticeChannel.Teams);
        }

        // PagerDuty pages, it does not chat: an alert is triggered, raised again when it escalates, and resolved.
        if (PagerDuty.IsConfigured && PagerDuty.Hears(severity) && kind != NoticeKind.Update)
        {
            channels.Add(NoticeChannel.PagerDuty);
        }

        if (Webhook.IsConfigured && Webhook.Hears(severity))
        {
            channels.Add(NoticeChannel.Webhook);
        }

        return channels;
    }
}

public abstract class NoticeChannelOptions
{
    private static readonly Severity[] Every = [Severity.P0, Severity.P1, Severity.P2, Severity.P3];

    /// <summary>
    /// The incident severities this channel hears about; unset means <see cref="DefaultSeverities"/>. No default items:
    /// the configuration binder appends to a list that has some, so <c>Severities:0=P0</c> would still hear them all.
    /// </summary>
    public List<Severity>? Severities { get; set; }

    /// <summary>What the channel hears when <see cref="Severities"/> is not configured.</summary>
    protected virtual IReadOnlyList<Severity> DefaultSeverities => Every;

    public abstract bool IsConfigured { get; }

    /// <summary>Whether an incident of <paramref name="severity"/> is notified on this channel.</summary>
    public bool Hears(Severity severity) => (Severities is { Count: > 0 } ? Severities : DefaultSeverities).Contains(severity);
}

/// <summary><c>Notices:Slack</c>: an incoming webhook (<c>https://hooks.slack.com/services/…</c>).</summary>
public sealed class SlackNoticeOptions : NoticeChannelOptions
{
    public string? WebhookUrl { get; set; }

    public override bool IsConfigured => !string.IsNullOrWhiteSpace(WebhookUrl);
}

/// <summary><c>Notices:Teams</c>: a Teams Workflows webhook ("Post to a channel when a webhook request is received").</summary>
public sealed class TeamsNoticeOptions : NoticeChannelOptions
{
    public string? WebhookUrl { get; set; }

    public override bool IsConfigured => !string.IsNullOrWhiteSpace(WebhookUrl);
}

/// <summary><c>Notices:PagerDuty</c>: Events API v2; by default only P0 and P1 page.</summary>
public sealed class PagerDutyNoticeOptions : NoticeChannelOptions
{
    private static readonly Severity[] Paging = [Severity.P0, Severity.P1];

    /// <summary>The integration's routing key (a secret).</summary>
    public string? RoutingKey { get; set; }

    public string EventsUrl { get; set; } = "https://events.pagerduty.com/v2/enqueue";

    protected override IReadOnlyList<Severity> DefaultSeverities => Paging;

    public override bool IsConfigured => !string.IsNullOrWhiteSpace(RoutingKey);
}

/// <summary><c>Notices:Webhook</c>: a generic JSON webhook, signed with HMAC-SHA256 over the timestamp and body.</summary>
public sealed class WebhookNoticeOptions : NoticeChannelOptions
{
    public string? Url { get; set; }

    /// <summary>The signing secret (required with <see cref="Url"/>).</summary>
    public string? Secret { get; set; }

    public override bool IsConfigured => !string.IsNullOrWhiteSpace(Url);
}
