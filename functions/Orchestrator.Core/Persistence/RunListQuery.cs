namespace Orchestrator.Core.Persistence;

/// <summary>A page of the run list: filters, the keyset position to continue after, and the page size.</summary>
public sealed record RunListQuery(
    IReadOnlyList<string>? Statuses,
    string? Definition,
    DateTimeOffset? CreatedAfter,
    DateTimeOffset? CreatedBefore,
    RunListCursor? After,
    int Limit);
