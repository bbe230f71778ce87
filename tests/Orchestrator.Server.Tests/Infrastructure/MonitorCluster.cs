using Orchestrator.Core.Tests.Fakes;

namespace Orchestrator.Server.Tests.Infrastructure;

/// <summary>Two Servers whose monitors run every second and tell every notice channel (Slack, Teams, PagerDuty, webhook) of one receiver.</summary>
public abstract class MonitorCluster : TwoServerFixture
{
    public NoticeReceiver Receiver { get; private set; } = null!;

    public override async Task InitializeAsync()
    {
        Receiver = await NoticeReceiver.StartAsync();
        await base.InitializeAsync();
    }

    public override async Task DisposeAsync()
    {
        await base.DisposeAsync();
        if (Receiver is not null)
        {
            await Receiver.DisposeAsync();
        }
    }

    protected override Dictionary<string, string?> SettingsFor(string instance) => new()
    {
        ["Durable__WorkerId"] = $"e2e-{TaskHub}-{instance}",
        ["Monitors__StuckWorkflows__Schedule"] = "* * * * * *",
        ["Monitors__StuckWorkflows__StuckAfter"] = "00:00:04",
        ["Monitors__StuckWorkflows__For"] = "00:00:00",
        ["Monitors__StuckWorkflows__ClearFor"] = "00:00:02",
        ["Monitors__StuckWorkflows__ClearChecks"] = "2",
        ["Monitors__FailureRate__Schedule"] = "* * * * * *",
        ["Monitors__FailureRate__MinimumRuns"] = "4",
        ["Monitors__FailureRate__For"] = "00:00:00",
        ["Monitors__ReplicaLag__Enabled"] = "false",
        ["Monitors__ConnectionPool__Enabled"] = "false",
        ["Monitors__CircuitBreakers__Enabled"] = "false",
        ["Notices__Slack__WebhookUrl"] = Receiver.Url("/slack"),
        ["Notices__Teams__WebhookUrl"] = Receiver.Url("/teams"),
        ["Notices__PagerDuty__RoutingKey"] = "routing-key-e2e",
        ["Notices__PagerDuty__EventsUrl"] = Receiver.Url("/pagerduty"),
        ["Notices__PagerDuty__Severities__0"] = "P0",
        ["Notices__PagerDuty__Severities__1"] = "P1",
        ["Notices__PagerDuty__Severities__2"] = "P2",
        ["Notices__PagerDuty__Severities__3"] = "P3",
        ["Notices__Webhook__Url"] = Receiver.Url("/hook"),
        ["Notices__Webhook__Secret"] = "webhook-signing-secret",
        ["Notices__PollInterval"] = "00:00:00.200",
        ["Notices__InitialBackoff"] = "00:00:00.200",
    };
}
