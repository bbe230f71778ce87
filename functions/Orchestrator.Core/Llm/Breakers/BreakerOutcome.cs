namespace Orchestrator.Core.Llm.Breakers;

/// <summary>How a call let through ended, for the breaker: a handled failure, anything else, or cancelled by its caller.</summary>
internal enum BreakerOutcome
{
    Success,
    Failure,
    Abandoned,
}
