using System.ComponentModel.DataAnnotations;

namespace Orchestrator.Core.Llm.Limits;

/// <summary>How the cluster-wide LLM limiters lease, wait and fall back; the limits themselves are per provider.</summary>
public sealed class LlmLimitOptions : IValidatableObject
{
    public const string SectionName = "Llm:Limits";

    /// <summary>How long a concurrency slot stays taken without renewal: how soon a crashed instance's slots come back.</summary>
    [Range(typeof(TimeSpan), "00:00:01", "01:00:00")]
    public TimeSpan SlotLease { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>How often a process renews, in one statement, every slot it holds.</summary>
    [Range(typeof(TimeSpan), "00:00:00.100", "00:30:00")]
    public TimeSpan SlotRenewInterval { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>How long a call waits for a slot or for room in a window before it is refused with a Retry-After.</summary>
    [Range(typeof(TimeSpan), "00:00:00", "00:10:00")]
    public TimeSpan QueueTimeout { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>The first pause of a waiting call between two looks at the slots; it doubles up to <see cref="MaxPollInterval"/>.</summary>
    [Range(typeof(TimeSpan), "00:00:00.001", "00:00:10")]
    public TimeSpan PollInterval { get; set; } = TimeSpan.FromMilliseconds(25);

    [Range(typeof(TimeSpan), "00:00:00.001", "00:01:00")]
    public TimeSpan MaxPollInterval { get; set; } = TimeSpan.FromMilliseconds(250);

    /// <summary>
    /// The longest one limiter statement may take, connecting included. Past it the database counts as unreachable
    /// and the instance falls back to its own limits, so an outage costs a call this much once, not on every call.
    /// </summary>
    [Range(typeof(TimeSpan), "00:00:00.050", "00:00:30")]
    public TimeSpan DatabaseTimeout { get; set; } = TimeSpan.FromSeconds(2);

    /// <summary>While falling back, how often one background statement checks whether the database answers again.</summary>
    [Range(typeof(TimeSpan), "00:00:00.050", "00:05:00")]
    public TimeSpan FallbackProbeInterval { get; set; } = TimeSpan.FromSeconds(3);

    public IEnumerable<ValidationResult> Validate(ValidationContext validationContext)
    {
        if (SlotRenewInterval >= SlotLease / 2)
        {
            yield return new ValidationResult(
                $"must be less than half of {nameof(SlotLease)} ({SlotLease}), so one late renewal does not lose a slot",
                [nameof(SlotRenewInterval)]);
        }

        if (MaxPollInterval < PollInterval)
        {
            yield return new ValidationResult($"must not be less than {nameof(PollInterval)} ({PollInterval})", [nameof(MaxPollInterval)]);
        }
    }
}
