namespace Orchestrator.Core.Incidents;

/// <summary>Sends a notice straight to its channels, without the ledger: only for an incident seen while the database is away.</summary>
public interface IDirectNoticeSender
{
    /// <summary>Tries each of <paramref name="channels"/> once; the channels that took the notice.</summary>
    Task<IReadOnlyCollection<string>> SendAsync(NoticeContent content, IEnumerable<string> channels, CancellationToken cancellationToken);
}
