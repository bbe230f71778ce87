using System.Net.Http.Headers;
using Microsoft.Extensions.Configuration;
using Orchestrator.Core.Incidents;
using Orchestrator.Core.Incidents.Notices;

namespace Orchestrator.Core.Tests.Incidents.Notices;

/// <summary><c>Notices:*</c> validation and binding, and the classification and back-off every channel shares.</summary>
public sealed class NoticeOptionsTests
{
    private static readonly DateTimeOffset Now = new(2030, 1, 1, 12, 0, 0, TimeSpan.Zero);

    [Theory]
    [InlineData("Notices:Slack:WebhookUrl", "hooks.slack.com/services/relative", "Notices:Slack:WebhookUrl must be an absolute http or https URL")]
    [InlineData("Notices:Teams:WebhookUrl", "ftp://teams.example/hook", "Notices:Teams:WebhookUrl must be an absolute http or https URL")]
    [InlineData("Notices:PagerDuty:EventsUrl", "/v2/enqueue", "Notices:PagerDuty:EventsUrl must be an absolute http or https URL")]
    [InlineData("Notices:Webhook:Url", "https://receiver.example/hook", "Notices:Webhook:Secret is required with Notices:Webhook:Url")]
    [InlineData("Notices:RequestTimeout", "00:01:00", "Notices:RequestTimeout must be less than Notices:ClaimLease")]
    [InlineData("Notices:InitialBackoff", "00:06:00", "Notices:MaxBackoff must not be less than Notices:InitialBackoff")]
    public void A_bad_setting_fails_validation_naming_its_key_and_not_its_value(string key, string value, string message)
    {
        var result = new NoticeOptionsValidator().Validate(null, Bind(new() { [key] = value }));

        Assert.True(result.Failed);
        Assert.Contains(message, result.FailureMessage, StringComparison.Ordinal);
        Assert.DoesNotContain(value, result.FailureMessage, StringComparison.Ordinal);
    }

    [Fact]
    public void Configured_channels_with_their_secrets_pass_validation()
    {
        var options = Bind(new()
        {
            ["Notices:Slack:WebhookUrl"] = "https://hooks.slack.example/services/T/B/x",
            ["Notices:Webhook:Url"] = "http://receiver.example/hook",
            ["Notices:Webhook:Secret"] = "a signing secret",
        });

        Assert.True(new NoticeOptionsValidator().Validate(null, options).Succeeded);
    }

    [Fact]
    public void Configured_severities_replace_the_defaults_instead_of_adding_to_them()
    {
        var options = Bind(new() { ["Notices:Slack:Severities:0"] = "P0", ["Notices:PagerDuty:Severities:0"] = "P2" });

        Assert.True(options.Slack.Hears(Severity.P0));
        Assert.False(options.Slack.Hears(Severity.P2));
        Assert.True(options.PagerDuty.Hears(Severity.P2));
        Assert.False(options.PagerDuty.Hears(Severity.P0));
        Assert.True(options.Teams.Hears(Severity.P3));
        Assert.False(new NoticeOptions().PagerDuty.Hears(Severity.P2)); // by default only P0 and P1 page
    }

    [Theory]
    [InlineData(200, "sent")]
    [InlineData(202, "sent")]
    [InlineData(408, "retried")]
    [InlineData(429, "retried")]
    [InlineData(500, "retried")]
    [InlineData(503, "retried")]
    [InlineData(400, "rejected")]
    [InlineData(401, "rejected")]
    [InlineData(403, "rejected")]
    [InlineData(404, "rejected")]
    [InlineData(410, "rejected")]
    [InlineData(422, "rejected")]
    public void Answers_are_sent_retried_or_rejected(int status, string outcome) =>
        Assert.Equal(outcome, NoticeResponses.Classify(new WebhookNoticeFormatter(), status, "", null, Now).Label);

    [Fact]
    public void Retry_After_as_an_HTTP_date_asks_for_the_wait_until_then()
    {
        var header = RetryConditionHeaderValue.Parse(Now.AddSeconds(90).ToString("R"));

        var attempt = NoticeResponses.Classify(new SlackNoticeFormatter(), 429, "rate_limited", header, Now);

        Assert.Equal(TimeSpan.FromSeconds(90), attempt.RetryAfter);
        Assert.Equal(TimeSpan.FromSeconds(90), NoticeDispatcher.Backoff(new NoticeOptions(), 1, attempt.RetryAfter));
    }

    [Fact]
    public void The_back_off_doubles_up_to_its_maximum()
    {
        var options = new NoticeOptions { InitialBackoff = TimeSpan.FromSeconds(1), MaxBackoff = TimeSpan.FromSeconds(10) };

        var waits = Enumerable.Range(1, 6).Select(attempt => NoticeDispatcher.Backoff(options, attempt, null).TotalSeconds);

        Assert.Equal([1, 2, 4, 8, 10, 10], waits);
    }

    [Fact]
    public void Redaction_removes_the_url_its_path_and_the_keys()
    {
        var options = Bind(new() { ["Notices:Slack:WebhookUrl"] = "https://hooks.slack.example/services/T/B/path-secret" });

        var text = NoticeResponses.Redact("POST https://hooks.slack.example/services/T/B/path-secret failed; path /services/T/B/path-secret", new SlackNoticeFormatter().Secrets(options));

        Assert.DoesNotContain("path-secret", text, StringComparison.Ordinal);
    }

    private static NoticeOptions Bind(Dictionary<string, string?> settings) =>
        new ConfigurationBuilder().AddInMemoryCollection(settings).Build().GetSection(NoticeOptions.SectionName).Get<NoticeOptions>() ?? new NoticeOptions();
}
