using System.ComponentModel.DataAnnotations;

namespace Orchestrator.Core.Llm.Breakers;

/// <summary>How the breakers of this instance keep in step with the cluster-wide state in PostgreSQL.</summary>
public sealed class SharedBreakerOptions
{
    public const string SectionName = "Llm:Breakers";

    /// <summary>Added to the LLM timeout when <see cref="ProbeLease"/> is not set: the probe call may take that long.</summary>
    public static readonly TimeSpan ProbeLeaseMargin = TimeSpan.FromSeconds(30);

    /// <summary>How often sample counts are written and every breaker's shared state is read (one batch for all).</summary>
    [Range(typeof(TimeSpan), "00:00:00.100", "00:00:30")]
    public TimeSpan SyncInterval { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>
    /// The longest one round trip to the shared state may take, connecting included; past it PostgreSQL counts as not
    /// answering and the breakers run on this instance's own counts until a sync succeeds.
    /// </summary>
    [Range(typeof(TimeSpan), "00:00:00.050", "00:00:30")]
    public TimeSpan DatabaseTimeout { get; set; } = TimeSpan.FromSeconds(2);

    /// <summary>
    /// How long a claimed half-open probe stays claimed: if its holder dies, another probe may go after this.
    /// Unset, it is the LLM timeout plus <see cref="ProbeLeaseMargin"/>.
    /// </summary>
    [Range(typeof(TimeSpan), "00:00:01", "02:00:00")]
    public TimeSpan? ProbeLease { get; set; }

    internal TimeSpan EffectiveProbeLease => ProbeLease ?? new LlmOptions().Timeout + ProbeLeaseMargin;
}
