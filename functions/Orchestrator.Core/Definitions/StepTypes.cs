namespace Orchestrator.Core.Definitions;

/// <summary>The step kinds the language knows.</summary>
public static class StepTypes
{
    public const string Llm = "llm";
}
