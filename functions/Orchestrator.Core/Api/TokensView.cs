namespace Orchestrator.Core.Api;

/// <summary>Tokens spent by the run's own calls (reused steps are not counted again).</summary>
public sealed record TokensView(long Input, long Output);
