using Microsoft.DurableTask.Client;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Time.Testing;
using Orchestrator.Core.Tests.Fakes;
using Orchestrator.Server.Durable;

namespace Orchestrator.Server.Tests.Durable;

/// <summary>
/// The retention purge asks the task hub for exactly the ended instances older than the retention, at start and then
/// every interval; zero retention purges nothing; a failed purge waits for the next interval. (What a purge by filter
/// deletes is the conformance suite's business, on both backends.)
/// </summary>
public sealed class DurableHistoryRetentionTests
{
    private static readonly DateTimeOffset Now = new(2026, 12, 7, 12, 0, 0, TimeSpan.Zero);
    private readonly DurableClientFake client = new() { PurgedPerCall = 3 };
    private readonly FakeTimeProvider time = new(Now);

    [Fact]
    public async Task A_pass_purges_the_ended_instances_created_before_the_retention()
    {
        var purged = await Retention(TimeSpan.FromDays(30)).PurgeOnceAsync(TimeSpan.FromDays(30), CancellationToken.None);

        Assert.Equal(3, purged);
        var filter = Assert.Single(client.Purges);
        Assert.Equal(Now - TimeSpan.FromDays(30), filter.CreatedTo);
        Assert.True(filter.CreatedFrom is null || filter.CreatedFrom <= DateTimeOffset.UnixEpoch, $"the purge starts at {filter.CreatedFrom}");
        Assert.Equal(
            [OrchestrationRuntimeStatus.Completed, OrchestrationRuntimeStatus.Failed, OrchestrationRuntimeStatus.Terminated],
            filter.Statuses!.Order());
    }

    [Fact]
    public async Task The_service_purges_at_start_and_again_each_interval()
    {
        using var retention = Retention(TimeSpan.FromDays(7), TimeSpan.FromHours(1));
        await retention.StartAsync(CancellationToken.None);
        await WaitForPurgesAsync(1);

        time.Advance(TimeSpan.FromHours(1));
        await WaitForPurgesAsync(2);
        await retention.StopAsync(CancellationToken.None);

        Assert.Equal(Now + TimeSpan.FromHours(1) - TimeSpan.FromDays(7), client.Purges[1].CreatedTo);
    }

    [Fact]
    public async Task Zero_retention_keeps_every_instance()
    {
        using var retention = Retention(TimeSpan.Zero);
        await retention.StartAsync(CancellationToken.None);
        time.Advance(TimeSpan.FromDays(1));
        await retention.StopAsync(CancellationToken.None);

        Assert.Empty(client.Purges);
    }

    [Fact]
    public async Task A_failed_purge_is_not_an_error_of_the_service()
    {
        client.FailPurging = true;

        Assert.Equal(0, await Retention(TimeSpan.FromDays(30)).PurgeOnceAsync(TimeSpan.FromDays(30), CancellationToken.None));
    }

    private DurableHistoryRetention Retention(TimeSpan retention, TimeSpan? interval = null) => new(
        client.Object,
        Options.Create(new DurableServerOptions { HistoryRetention = retention, HistoryRetentionInterval = interval ?? TimeSpan.FromHours(1) }),
        time,
        NullLogger<DurableHistoryRetention>.Instance);

    private async Task WaitForPurgesAsync(int count)
    {
        for (var i = 0; i < 200 && client.Purges.Count < count; i++)
        {
            await Task.Delay(10);
        }

        Assert.Equal(count, client.Purges.Count);
    }
}
