namespace Orchestrator.Core.Operations;

/// <summary>One row of <c>admin_audit</c>.</summary>
public sealed record AuditEntry(long Id, DateTimeOffset At, string Actor, string Action, string? Target, bool Changed, string? DetailJson);
