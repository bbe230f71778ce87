using Microsoft.Extensions.Time.Testing;
using Orchestrator.Core.Llm;
using Orchestrator.Core.Resilience;

namespace Orchestrator.Core.Tests.Resilience;

/// <summary>A reply paid for while the database was away is recorded by the next attempt, not bought again.</summary>
public sealed class PaidResultsTests
{
    private static readonly LlmCompletion Reply = new("the answer", 12, 34, 0.05m, "openai", "gpt-test");

    private readonly FakeTimeProvider time = new(new DateTimeOffset(2026, 3, 1, 12, 0, 0, TimeSpan.Zero));

    [Fact]
    public void A_kept_reply_is_found_for_its_step_until_it_is_forgotten()
    {
        var paid = new PaidResults(time);

        paid.Keep("run-1", "draft", 0, Reply, 850);

        Assert.Equal((Reply, 850), paid.Find("run-1", "draft", 0));
        Assert.Null(paid.Find("run-1", "draft", 1));
        Assert.Null(paid.Find("run-1", "review", 0));
        Assert.Null(paid.Find("run-2", "draft", 0));

        paid.Forget("run-1", "draft", 0);

        Assert.Null(paid.Find("run-1", "draft", 0));
        Assert.Equal(0, paid.Count);
    }

    [Fact]
    public void A_reply_kept_for_more_than_a_day_is_no_longer_returned()
    {
        var paid = new PaidResults(time);
        paid.Keep("run-1", "draft", 0, Reply, 850);

        time.Advance(TimeSpan.FromHours(23));
        Assert.NotNull(paid.Find("run-1", "draft", 0));

        time.Advance(TimeSpan.FromHours(1) + TimeSpan.FromSeconds(1));
        Assert.Null(paid.Find("run-1", "draft", 0));
        Assert.Equal(0, paid.Count);
    }

    [Fact]
    public void Beyond_capacity_the_oldest_replies_are_dropped_and_the_newest_kept()
    {
        var paid = new PaidResults(time);
        for (var i = 0; i <= PaidResults.Capacity; i++)
        {
            paid.Keep("run-1", "step", i, Reply with { Text = $"reply {i}" }, i);
            time.Advance(TimeSpan.FromMilliseconds(1));
        }

        Assert.Equal(PaidResults.Capacity, paid.Count);
        Assert.Null(paid.Find("run-1", "step", 0));
        Assert.Equal("reply 1", paid.Find("run-1", "step", 1)?.Completion.Text);
        Assert.Equal("reply 10000", paid.Find("run-1", "step", PaidResults.Capacity)?.Completion.Text);
    }

    [Fact]
    public void Keeping_a_step_again_when_full_replaces_it_and_drops_nothing_else()
    {
        var paid = new PaidResults(time);
        for (var i = 0; i < PaidResults.Capacity; i++)
        {
            paid.Keep("run-1", "step", i, Reply with { Text = $"reply {i}" }, i);
            time.Advance(TimeSpan.FromMilliseconds(1));
        }

        paid.Keep("run-1", "step", PaidResults.Capacity - 1, Reply with { Text = "again" }, 1);

        Assert.Equal(PaidResults.Capacity, paid.Count);
        Assert.Equal("reply 0", paid.Find("run-1", "step", 0)?.Completion.Text);
        Assert.Equal("again", paid.Find("run-1", "step", PaidResults.Capacity - 1)?.Completion.Text);
    }
}
