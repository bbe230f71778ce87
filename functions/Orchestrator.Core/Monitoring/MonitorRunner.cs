using Microsoft.Extensions.Logging;
using Orchestrator.Core.Incidents;

namespace Orchestrator.Core.Monitoring;

/// <summary>
/// Runs one check once: evaluates it within its time limit and hands the readings to the incident engine. The
/// Functions app's timers and the Server's scheduler both come here; neither decides anything itself.
/// </summary>
public sealed class MonitorRunner(IEnumerable<IMonitorCheck> checks, IncidentEngine engine, TimeProvider time, ILogger<MonitorRunner> logger)
{
    private readonly IReadOnlyList<IMonitorCheck> all = checks.ToList();

    /// <summary>Every registered check, enabled or not.</summary>
    public IReadOnlyList<IMonitorCheck> Checks => all;

    /// <summary>Runs the check named <paramref name="name"/> (its section under <c>Monitors</c>); false when it is off or failed.</summary>
    public Task<bool> RunAsync(string name, CancellationToken cancellationToken) =>
        all.FirstOrDefault(c => c.Name == name) is { } check
            ? RunAsync(check, cancellationToken)
            : throw new ArgumentException($"no monitor check is named '{name}'", nameof(name));

    /// <summary>Evaluates <paramref name="check"/> and applies its readings; any failure is logged and the next run tries again.</summary>
    public async Task<bool> RunAsync(IMonitorCheck check, CancellationToken cancellationToken)
    {
        if (!check.Options.Enabled)
        {
            return false;
        }

        IReadOnlyList<ConditionReading> readings;
        try
        {
            readings = await check.EvaluateAsync(cancellationToken).WaitAsync(check.Options.Timeout, time, cancellationToken);
        }
        catch (Exception ex) when (!cancellationToken.IsCancellationRequested)
        {
            Log.MonitorCheckFailed(logger, check.Name, ex.GetType().Name, ex.Message);
            return false;
        }

        try
        {
            await engine.ApplyAsync(check, readings, cancellationToken);
            return true;
        }
        catch (Exception ex) when (!cancellationToken.IsCancellationRequested)
        {
            // The database is away: the condition's state is where the last successful run left it.
            Log.MonitorApplyFailed(logger, check.Name, ex.GetType().Name, ex.Message);
            return false;
        }
    }
}
