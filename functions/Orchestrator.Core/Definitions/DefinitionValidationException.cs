namespace Orchestrator.Core.Definitions;

/// <summary>A definition was rejected; carries every error found, each with its path.</summary>
public sealed class DefinitionValidationException(IReadOnlyList<DefinitionError> errors)
    : Exception("The workflow definition is invalid: " + string.Join("; ", errors))
{
    public IReadOnlyList<DefinitionError> Errors { get; } = errors;
}
