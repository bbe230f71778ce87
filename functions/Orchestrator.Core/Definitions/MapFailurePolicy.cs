namespace Orchestrator.Core.Definitions;

/// <summary>What a map does when an item fails.</summary>
public static class MapFailurePolicy
{
    public const string Fail = "fail";
    public const string Continue = "continue";
}
