namespace Orchestrator.Core.Llm.Breakers;

internal enum BreakerPermitKind
{
    Call,
    SharedProbe,
    LocalProbe,
}
