using System.Diagnostics.Metrics;

namespace Orchestrator.Core.Metrics;

/// <summary>
/// Reads Npgsql's own pool instruments (meter <c>Npgsql</c>: connection count by state, max, pending requests,
/// timeouts) for this process's data source and copies them into the <c>db_pool_*</c> series at scrape time.
/// </summary>
public sealed class NpgsqlPoolMetrics : IDisposable
{
    public const string DataSourceName = "primary";

    private const string PoolNameTag = "db.client.connection.pool.name";
    private const string StateTag = "db.client.connection.state";
    private const string Count = "db.client.connection.count";
    private const string Max = "db.client.connection.max";
    private const string Pending = "db.client.connection.npgsql.pending_requests";
    private const string Timeouts = "db.client.connection.npgsql.timeouts";

    private readonly OrchestratorMetrics metrics;
    private readonly string poolName;
    private readonly MeterListener listener = new();
    private readonly Lock gate = new();
    private double idle;
    private double busy;
    private double max;
    private double pending;

    // Npgsql counts pending requests with an up-down counter (+1 when a request starts waiting, -1 when it ends):
    // a running sum, not a value re-observed at every sample.
    private double pendingCounted;
    private double timeoutsObserved;
    private double timeoutsCounted;

    public NpgsqlPoolMetrics(OrchestratorMetrics metrics)
        : this(metrics, DataSourceName)
    {
    }

    /// <summary>For the data source named <paramref name="poolName"/> (tests give theirs a name of its own).</summary>
    internal NpgsqlPoolMetrics(OrchestratorMetrics metrics, string poolName)
    {
        this.metrics = metrics;
        this.poolName = poolName;
        listener.InstrumentPublished = (instrument, l) =>
        {
            if (instrument.Meter.Name == "Npgsql" && instrument.Name is Count or Max or Pending or Timeouts)
            {
                l.EnableMeasurementEvents(instrument);
            }
        };
        listener.SetMeasurementEventCallback<int>((i, v, tags, _) => Record(i, v, tags));
        listener.SetMeasurementEventCallback<long>((i, v, tags, _) => Record(i, v, tags));
        listener.SetMeasurementEventCallback<double>((i, v, tags, _) => Record(i, v, tags));
        listener.Start();
    }

    /// <summary>Samples the observable instruments now and sets the series.</summary>
    public void Collect()
    {
        var sample = Sample();
        metrics.PoolConnections.WithLabels("idle").Set(sample.Idle);
        metrics.PoolConnections.WithLabels("busy").Set(sample.Busy);
        metrics.PoolMaxConnections.Set(sample.Max);
        metrics.PoolPendingRequests.Set(sample.Pending);
        metrics.PoolTimeouts.IncTo(sample.Timeouts);
    }

    /// <summary>Samples the observable instruments now: the pool's figures as the series show them (the monitor reads these).</summary>
    public PoolSample Sample()
    {
        lock (gate)
        {
            idle = busy = max = pending = timeoutsObserved = 0;
            listener.RecordObservableInstruments();
            return new PoolSample(idle, busy, max, Math.Max(0, pending + pendingCounted), Math.Max(timeoutsObserved, timeoutsCounted));
        }
    }

    public void Dispose() => listener.Dispose();

    private void Record(Instrument instrument, double value, ReadOnlySpan<KeyValuePair<string, object?>> tags)
    {
        string? pool = null;
        string? state = null;
        foreach (var tag in tags)
        {
            if (tag.Key == PoolNameTag)
            {
                pool = tag.Value as string;
            }
            else if (tag.Key == StateTag)
            {
                state = tag.Value as string;
            }
        }

        if (pool != poolName)
        {
            return;
        }

        lock (gate)
        {
            switch (instrument.Name)
            {
                case Count when state == "idle":
                    idle += value;
                    break;
                case Count:
                    busy += value;
                    break;
                case Max:
                    max += value;
                    break;
                case Pending when instrument.IsObservable:
                    pending += value;
                    break;
                case Pending:
                    pendingCounted += value;
                    break;
                case Timeouts when instrument.IsObservable:
                    timeoutsObserved += value;
                    break;
                case Timeouts:
                    timeoutsCounted += value;
                    break;
            }
        }
    }
}
