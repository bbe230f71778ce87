using Microsoft.Extensions.Logging;
using Orchestrator.Core.Incidents;

namespace Orchestrator.Core.Monitoring;

/// <summary>
/// Runs one check once: evaluates it within its time limit and hands the readings to the incident engine. The
/// Functions app's timers and the Server's scheduler both come here; neither decides anything itself. A check that
/// watches the database itself (<see cref="IMonitorCheck.WatchesTheDatabase"/>) still reports when the database
/// cannot record anything: its incident is held here, its detected notice sent directly, and it is written to the
/// database as soon as the database answers.
/// </summary>
public sealed class MonitorRunner(
    IEnumerable<IMonitorCheck> checks, IncidentEngine engine, TimeProvider time, ILogger<MonitorRunner> logger, IDirectNoticeSender? direct = null) : IDisposable
{
    private readonly IReadOnlyList<IMonitorCheck> all = checks.ToList();
    private readonly Dictionary<string, Outage> outages = new(StringComparer.Ordinal);
    private readonly SemaphoreSlim outageGate = new(1, 1);

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
            if (check.WatchesTheDatabase)
            {
                await RecordOutagesAsync(cancellationToken);
            }

            await engine.ApplyAsync(check, readings, cancellationToken);
            if (check.WatchesTheDatabase)
            {
                await ForgetOutagesAsync(cancellationToken);
            }

            return true;
        }
        catch (Exception ex) when (!cancellationToken.IsCancellationRequested)
        {
            // The database is away: the condition's state is where the last successful run left it.
            Log.MonitorApplyFailed(logger, check.Name, ex.GetType().Name, ex.Message);
            if (check.WatchesTheDatabase)
            {
                await HoldOutagesAsync(check, readings, cancellationToken);
            }

            return false;
        }
    }

    /// <summary>Conditions seen firing while nothing could be recorded: damped as usual (<c>For</c>), then opened here and told directly.</summary>
    private async Task HoldOutagesAsync(IMonitorCheck check, IReadOnlyList<ConditionReading> readings, CancellationToken cancellationToken)
    {
        var now = time.GetUtcNow();
        await outageGate.WaitAsync(cancellationToken);
        try
        {
            foreach (var reading in readings)
            {
                if (!reading.Firing)
                {
                    if (outages.TryGetValue(reading.DedupKey, out var seen) && seen.Incident is null)
                    {
                        outages.Remove(reading.DedupKey);
                    }

                    continue;
                }

                if (!outages.TryGetValue(reading.DedupKey, out var outage))
                {
                    outages[reading.DedupKey] = outage = new Outage(now);
                }

                if (outage.Incident is null && now - outage.Since >= check.Options.For)
                {
                    outage.Incident = engine.StartOffline(check, reading, outage.Since);
                }

                if (outage.Incident is { } incident && direct is not null && outage.Delivered.Count < incident.Channels.Count)
                {
                    var missing = incident.Channels.Where(c => !outage.Delivered.Contains(c)).ToList();
                    foreach (var channel in await direct.SendAsync(incident.Detected, missing, cancellationToken))
                    {
                        outage.Delivered.Add(channel);
                    }
                }
            }
        }
        finally
        {
            outageGate.Release();
        }
    }

    /// <summary>Writes the incidents held during an outage, now that the database answers (throws while it still does not).</summary>
    private async Task RecordOutagesAsync(CancellationToken cancellationToken)
    {
        await outageGate.WaitAsync(cancellationToken);
        try
        {
            foreach (var (key, outage) in outages.ToList())
            {
                if (outage.Incident is { } incident)
                {
                    await engine.RecordOfflineAsync(incident, outage.Delivered, cancellationToken);
                    outages.Remove(key);
                }
            }
        }
        finally
        {
            outageGate.Release();
        }
    }

    public void Dispose() => outageGate.Dispose();

    /// <summary>The database recorded the readings: a condition still pending from the outage goes on in the database's own state.</summary>
    private async Task ForgetOutagesAsync(CancellationToken cancellationToken)
    {
        await outageGate.WaitAsync(cancellationToken);
        try
        {
            outages.Clear();
        }
        finally
        {
            outageGate.Release();
        }
    }

    private sealed class Outage(DateTimeOffset since)
    {
        public DateTimeOffset Since { get; } = since;

        public OfflineIncident? Incident { get; set; }

        public HashSet<string> Delivered { get; } = new(StringComparer.Ordinal);
    }
}
