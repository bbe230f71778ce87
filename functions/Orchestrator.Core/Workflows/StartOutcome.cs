using Orchestrator.Core.Definitions;

namespace Orchestrator.Core.Workflows;

/// <summary>What became of a start (or retry) request.</summary>
public sealed record StartOutcome(StartOutcomeKind Kind, string? RunId, IReadOnlyList<DefinitionError> Errors, string? Message = null, string? RunStatus = null)
{
    public static StartOutcome Invalid(IReadOnlyList<DefinitionError> errors) => new(StartOutcomeKind.Invalid, null, errors);
}
