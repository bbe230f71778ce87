namespace Orchestrator.Core.Incidents.Notices;

/// <summary>A notice this sender has claimed: its id, the stored content (JSON), and the attempt number the claim made it (the fencing token of the marks).</summary>
internal sealed record ClaimedNotice(long Id, string Channel, string Content, int Attempt);
