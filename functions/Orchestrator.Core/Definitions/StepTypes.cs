namespace Orchestrator.Core.Definitions;

/// <summary>The step kinds the language knows.</summary>
public static class StepTypes
{
    public const string Llm = "llm";
    public const string Map = "map";
    public const string Approval = "approval";
    public const string Transform = "transform";

    /// <summary>Steps that may call a paid provider (and so are checked against the budget).</summary>
    public static bool IsPaid(string type) => type is Llm;
}
