namespace Orchestrator.Core.Definitions;

/// <summary>Where the registry loads workflow definitions from.</summary>
public sealed class DefinitionOptions
{
    public const string SectionName = "Workflows";

    /// <summary>Folder of <c>*.json</c> / <c>*.yaml</c> definitions; relative paths resolve against the app's folder.</summary>
    public string DefinitionsPath { get; set; } = "definitions";
}
