namespace Orchestrator.Core.Incidents;

/// <summary>Told when the engine has committed notices to the ledger, so a sender can start at once instead of at its next poll.</summary>
public interface INoticeSignal
{
    void NoticesWritten();
}
