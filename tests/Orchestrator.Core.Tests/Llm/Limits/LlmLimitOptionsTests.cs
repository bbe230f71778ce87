using System.ComponentModel.DataAnnotations;
using Orchestrator.Core.Llm.Limits;

namespace Orchestrator.Core.Tests.Llm.Limits;

public sealed class LlmLimitOptionsTests
{
    [Fact]
    public void The_defaults_are_valid()
    {
        Assert.Empty(Failures(new LlmLimitOptions()));
    }

    [Fact]
    public void A_renewal_interval_of_half_the_lease_or_more_is_refused_naming_the_key()
    {
        var failure = Assert.Single(Failures(new LlmLimitOptions { SlotLease = TimeSpan.FromSeconds(10), SlotRenewInterval = TimeSpan.FromSeconds(5) }));

        Assert.Equal([nameof(LlmLimitOptions.SlotRenewInterval)], failure.MemberNames);
    }

    [Fact]
    public void A_lease_shorter_than_a_second_is_out_of_range()
    {
        Assert.Contains(Failures(new LlmLimitOptions { SlotLease = TimeSpan.FromMilliseconds(500), SlotRenewInterval = TimeSpan.FromMilliseconds(100) }),
            f => f.MemberNames.Contains(nameof(LlmLimitOptions.SlotLease)));
    }

    private static List<ValidationResult> Failures(LlmLimitOptions options)
    {
        var results = new List<ValidationResult>();
        Validator.TryValidateObject(options, new ValidationContext(options), results, validateAllProperties: true);
        return results;
    }
}
