using Microsoft.Extensions.Options;

namespace Orchestrator.Core.Incidents.Notices;

/// <summary>
/// What data annotations cannot say about <c>Notices:*</c>: URLs absolute http(s), a webhook secret with its URL, a
/// back-off that grows, a request that ends inside its lease. Messages name the key and never echo a value (they are secrets).
/// </summary>
public sealed class NoticeOptionsValidator : IValidateOptions<NoticeOptions>
{
    public ValidateOptionsResult Validate(string? name, NoticeOptions options)
    {
        var failures = new List<string>();
        var section = NoticeOptions.SectionName;
        RequireUrl(failures, $"{section}:Slack:WebhookUrl", options.Slack.WebhookUrl, optional: true);
        RequireUrl(failures, $"{section}:Teams:WebhookUrl", options.Teams.WebhookUrl, optional: true);
        RequireUrl(failures, $"{section}:Webhook:Url", options.Webhook.Url, optional: true);
        RequireUrl(failures, $"{section}:PagerDuty:EventsUrl", options.PagerDuty.EventsUrl, optional: false);
        if (options.Webhook.IsConfigured && string.IsNullOrWhiteSpace(options.Webhook.Secret))
        {
            failures.Add($"{section}:Webhook:Secret is required with {section}:Webhook:Url (the receiver verifies the signature with it).");
        }

        if (options.MaxBackoff < options.InitialBackoff)
        {
            failures.Add($"{section}:MaxBackoff must not be less than {section}:InitialBackoff.");
        }

        if (options.RequestTimeout >= options.ClaimLease)
        {
            failures.Add($"{section}:RequestTimeout must be less than {section}:ClaimLease (a lease must outlast the attempt it covers, or another sender sends it too).");
        }

        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }

    private static void RequireUrl(List<string> failures, string key, string? value, bool optional)
    {
        if (optional && string.IsNullOrWhiteSpace(value))
        {
            return;
        }

        if (!Uri.TryCreate(value, UriKind.Absolute, out var uri) || (uri.Scheme != Uri.UriSchemeHttps && uri.Scheme != Uri.UriSchemeHttp))
        {
            failures.Add($"{key} must be an absolute http or https URL.");
        }
    }
}
