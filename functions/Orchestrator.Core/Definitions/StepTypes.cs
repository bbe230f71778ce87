namespace Orchestrator.Core.Definitions;

/// <summary>The step kinds the language knows.</summary>
public static class StepTypes
{
    public const string Llm = "llm";
    public const string Map = "map";
    public const string Approval = "approval";
    public const string Transform = "transform";
}
