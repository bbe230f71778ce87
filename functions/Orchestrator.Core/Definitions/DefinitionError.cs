namespace Orchestrator.Core.Definitions;

/// <summary>One problem in a definition, located by a path such as <c>steps[2].prompt</c>.</summary>
public sealed record DefinitionError(string Path, string Message)
{
    public override string ToString() => string.IsNullOrEmpty(Path) ? Message : $"{Path}: {Message}";
}
