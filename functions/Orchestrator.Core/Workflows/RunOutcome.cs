using Orchestrator.Core.Definitions;

namespace Orchestrator.Core.Workflows;

/// <summary>What became of a start, retry or cancel request; the HTTP layers map it to a status code.</summary>
public sealed record RunOutcome(RunOutcomeKind Kind, string? RunId, IReadOnlyList<DefinitionError> Errors, string? Message = null, string? RunStatus = null)
{
    public static RunOutcome Invalid(IReadOnlyList<DefinitionError> errors) => new(RunOutcomeKind.Invalid, null, errors);
}
