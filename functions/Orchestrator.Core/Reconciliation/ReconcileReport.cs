namespace Orchestrator.Core.Reconciliation;

/// <summary>What one reconciler pass found and did.</summary>
public sealed record ReconcileReport(int Checked, int Resumed, int Repaired);
