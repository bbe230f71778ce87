namespace Orchestrator.Core.Operations;

/// <summary>Whether maintenance mode is on, since when, why, and who switched it.</summary>
public sealed record MaintenanceState(bool Enabled, DateTimeOffset? Since, string? Reason, string? By)
{
    public static readonly MaintenanceState Off = new(false, null, null, null);
}
