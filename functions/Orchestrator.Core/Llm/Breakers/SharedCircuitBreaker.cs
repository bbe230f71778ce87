using System.Globalization;
using Polly.CircuitBreaker;

namespace Orchestrator.Core.Llm.Breakers;

/// <summary>
/// One provider's circuit breaker, shared by every instance through PostgreSQL: open for one is open for all, and
/// when the break ends exactly one call in the cluster probes the provider. While PostgreSQL does not answer it runs
/// the same state machine on this instance's own counts. Built into a pipeline with
/// <see cref="SharedCircuitBreakerExtensions.AddSharedCircuitBreaker"/>.
/// </summary>
public sealed class SharedCircuitBreaker
{
    private readonly Lock gate = new();
    private readonly CircuitBreakerRegistry registry;
    private readonly SampleWindow window;

    // The shared state as last read (database clock); epoch -1 until the first read.
    private CircuitState sharedState = CircuitState.Closed;
    private long epoch = -1;
    private DateTimeOffset? openUntil;
    private DateTimeOffset? probeExpiresAt;
    private long resetGeneration = -1;
    private long version = -1;
    private long clusterSuccesses;
    private long clusterFailures;

    // Outcomes counted here and not written yet, for the current epoch (dropped when it moves on).
    private long pendingSuccesses;
    private long pendingFailures;

    // The local breaker (this instance's clock), in charge only while PostgreSQL does not answer.
    private CircuitState localState = CircuitState.Closed;
    private DateTimeOffset localOpenUntil;
    private DateTimeOffset localProbeExpiresAt;
    private string? localProbe;

    private int claiming;
    private int tripping;

    internal SharedCircuitBreaker(string name, CircuitBreakerSettings settings, CircuitBreakerRegistry registry)
    {
        Name = name;
        Settings = settings;
        this.registry = registry;
        window = new SampleWindow(settings.SamplingDuration);
    }

    public string Name { get; }

    public CircuitBreakerSettings Settings { get; }

    /// <summary>The cluster-wide state as this instance last read it; this instance's own while PostgreSQL does not answer.</summary>
    public CircuitState State
    {
        get
        {
            lock (gate)
            {
                return registry.IsShared ? sharedState : localState;
            }
        }
    }

    /// <summary>Lets a call through, or refuses it with <see cref="BrokenCircuitException.RetryAfter"/> set.</summary>
    internal async ValueTask<BreakerPermit> AcquireAsync(CancellationToken cancellationToken)
    {
        if (!registry.IsShared)
        {
            return AcquireLocal();
        }

        var now = registry.DatabaseNow;
        lock (gate)
        {
            switch (sharedState)
            {
                case CircuitState.Closed:
                    return BreakerPermit.Call;
                case CircuitState.Open when openUntil > now:
                    throw Broken(openUntil.Value - now, "is open");
                case CircuitState.HalfOpen when probeExpiresAt > now:
                    throw Broken(WhileProbing(probeExpiresAt.Value - now), "is half-open and another call is probing the provider");
            }
        }

        // The break is over (or the last probe's lease ran out): one call of this instance asks for the probe.
        if (Interlocked.CompareExchange(ref claiming, 1, 0) != 0)
        {
            throw Broken(WhileProbing(registry.ProbeLease), "is half-open and another call is probing the provider");
        }

        try
        {
            var token = registry.NextProbeToken();
            BreakerRow row;
            try
            {
                // Not the caller's token: a claim that commits just as the caller gives up would hold the probe for a whole lease
                // with nobody to report it. The store bounds the round trip; a caller that gave up is reported as abandoned.
                row = await registry.Store!.TryClaimProbeAsync(Name, token, registry.ProbeLease, CancellationToken.None);
            }
            catch (Exception ex) when (CircuitBreakerRegistry.IsStoreFailure(ex))
            {
                registry.Degrade(ex);
                return AcquireLocal();
            }

            Apply(row, counts: false);
            if (row.ProbeHolder == token)
            {
                Log.BreakerProbeClaimed(registry.Logger, Name, token);
                return new BreakerPermit(BreakerPermitKind.SharedProbe, token);
            }

            return row.State switch
            {
                CircuitState.Closed => BreakerPermit.Call,
                CircuitState.HalfOpen => throw Broken(WhileProbing((row.ProbeExpiresAt ?? row.DatabaseNow) - row.DatabaseNow), "is half-open and another instance is probing the provider"),
                _ => throw Broken((row.OpenUntil ?? row.DatabaseNow) - row.DatabaseNow, "is open"),
            };
        }
        finally
        {
            Volatile.Write(ref claiming, 0);
        }
    }

    /// <summary>Records how a call let through ended; a probe's outcome is written through at once.</summary>
    internal async ValueTask ReportAsync(BreakerPermit permit, BreakerOutcome outcome)
    {
        switch (permit.Kind)
        {
            case BreakerPermitKind.SharedProbe:
                await CompleteSharedProbeAsync(permit.Token!, outcome);
                return;
            case BreakerPermitKind.LocalProbe:
                CompleteLocalProbe(permit.Token!, outcome);
                return;
        }

        if (outcome == BreakerOutcome.Abandoned)
        {
            return;
        }

        var failed = outcome == BreakerOutcome.Failure;
        lock (gate)
        {
            var now = registry.LocalNow;
            window.Add(now, failed);
            if (!registry.IsShared)
            {
                // Counted for the local breaker only: written once PostgreSQL answers again, they would land in the
                // current second however old they are.
                if (failed && localState == CircuitState.Closed && Trips(window.Sum(now)))
                {
                    OpenLocally(now, "local failure ratio");
                }

                return;
            }

            if (failed)
            {
                pendingFailures++;
            }
            else
            {
                pendingSuccesses++;
            }

            if (!failed || sharedState != CircuitState.Closed)
            {
                return;
            }
        }

        await EvaluateAsync();
    }

    /// <summary>Opens the breaker for the cluster when this instance's view (last read cluster counts plus its own since) trips it.</summary>
    internal async Task EvaluateAsync()
    {
        long known;
        (long Successes, long Failures) counts;
        lock (gate)
        {
            counts = (clusterSuccesses + pendingSuccesses, clusterFailures + pendingFailures);
            if (sharedState != CircuitState.Closed || !Trips(counts))
            {
                return;
            }

            known = epoch;
        }

        if (Interlocked.CompareExchange(ref tripping, 1, 0) != 0)
        {
            return;
        }

        try
        {
            var reason = string.Create(CultureInfo.InvariantCulture, $"{counts.Failures} of {counts.Successes + counts.Failures} calls failed in the sampling window");
            var row = await registry.Store!.TripAsync(Name, known, Settings.BreakDuration, registry.Holder, reason, CancellationToken.None);
            Apply(row, counts: false);
            if (row.State == CircuitState.Open && (known < 0 || row.Epoch == known + 1))
            {
                Log.BreakerOpened(registry.Logger, Name, Settings.BreakDuration, registry.Holder, reason);
            }
        }
        catch (Exception ex) when (CircuitBreakerRegistry.IsStoreFailure(ex))
        {
            registry.Degrade(ex);
            lock (gate)
            {
                if (localState == CircuitState.Closed)
                {
                    OpenLocally(registry.LocalNow, "failure ratio (PostgreSQL unreachable)");
                }
            }
        }
        finally
        {
            Volatile.Write(ref tripping, 0);
        }
    }

    /// <summary>Takes the outcomes not written yet, for the sync tick.</summary>
    internal BreakerDelta TakePending()
    {
        lock (gate)
        {
            var delta = new BreakerDelta(Name, epoch, pendingSuccesses, pendingFailures, Settings.SamplingDuration);
            (pendingSuccesses, pendingFailures) = (0, 0);
            return delta;
        }
    }

    /// <summary>Puts back outcomes the sync tick could not write.</summary>
    internal void RestorePending(BreakerDelta delta)
    {
        lock (gate)
        {
            if (delta.Epoch == epoch)
            {
                pendingSuccesses += delta.Successes;
                pendingFailures += delta.Failures;
            }
        }
    }

    /// <summary>
    /// Takes in a row read from PostgreSQL (older reads than one already taken in are ignored), and logs a reset that
    /// happened since the last read while the breaker was not closed here.
    /// </summary>
    internal void Apply(BreakerRow row, bool counts)
    {
        registry.ObserveDatabaseClock(row.DatabaseNow);
        lock (gate)
        {
            if (row.Version < version)
            {
                return;
            }

            var was = sharedState;
            var reset = resetGeneration >= 0 && row.ResetGeneration > resetGeneration && was != CircuitState.Closed;
            if (row.Epoch != epoch)
            {
                // Outcomes of an earlier epoch no longer count (those counted before the first read, epoch -1, do).
                if (epoch >= 0)
                {
                    window.Clear();
                    (clusterSuccesses, clusterFailures, pendingSuccesses, pendingFailures) = (0, 0, 0, 0);
                }
            }

            (sharedState, epoch, openUntil, probeExpiresAt) = (row.State, row.Epoch, row.OpenUntil, row.ProbeExpiresAt);
            (resetGeneration, version) = (row.ResetGeneration, row.Version);
            if (counts)
            {
                (clusterSuccesses, clusterFailures) = (row.Successes, row.Failures);
            }

            // Logged before the new state is visible here (readers take the same lock).
            if (reset)
            {
                Log.BreakerReset(registry.Logger, Name, row.ResetGeneration);
            }
            else if (was != row.State)
            {
                Log.BreakerStateRead(registry.Logger, Name, row.State.ToString(), was.ToString());
            }
        }
    }

    /// <summary>PostgreSQL stopped answering: the local breaker takes over from the last known shared state.</summary>
    internal void EnterFallback(TimeSpan databaseClockOffset)
    {
        lock (gate)
        {
            switch (sharedState)
            {
                case CircuitState.Closed:
                    localState = CircuitState.Closed;
                    break;
                case CircuitState.Open:
                    (localState, localOpenUntil) = (CircuitState.Open, openUntil is { } until ? until - databaseClockOffset : registry.LocalNow);
                    break;
                default:
                    // Another instance's probe was out: its outcome cannot be read now, so one more break, at most
                    // until its lease would have ended, before this instance probes on its own.
                    var breakEnds = registry.LocalNow + Settings.BreakDuration;
                    var leaseEnds = probeExpiresAt is { } expires ? expires - databaseClockOffset : registry.LocalNow;
                    (localState, localOpenUntil) = (CircuitState.Open, leaseEnds < breakEnds ? leaseEnds : breakEnds);
                    break;
            }

            localProbe = null;
        }
    }

    private BreakerPermit AcquireLocal()
    {
        lock (gate)
        {
            var now = registry.LocalNow;
            switch (localState)
            {
                case CircuitState.Closed:
                    return BreakerPermit.Call;
                case CircuitState.Open when localOpenUntil > now:
                    throw Broken(localOpenUntil - now, "is open (on this instance's own counts: PostgreSQL does not answer)");
                case CircuitState.HalfOpen when localProbeExpiresAt > now:
                    throw Broken(WhileProbing(localProbeExpiresAt - now), "is half-open and another call of this instance is probing the provider");
            }

            localProbe = registry.NextProbeToken();
            (localState, localProbeExpiresAt) = (CircuitState.HalfOpen, now + registry.ProbeLease);
            return new BreakerPermit(BreakerPermitKind.LocalProbe, localProbe);
        }
    }

    private async Task CompleteSharedProbeAsync(string token, BreakerOutcome outcome)
    {
        if (registry.IsShared)
        {
            try
            {
                var row = outcome switch
                {
                    BreakerOutcome.Success => await registry.Store!.CloseAfterProbeAsync(Name, token, CancellationToken.None),
                    BreakerOutcome.Failure => await registry.Store!.ReopenAfterProbeAsync(Name, token, Settings.BreakDuration, registry.Holder, CancellationToken.None),
                    _ => await registry.Store!.ReleaseProbeAsync(Name, token, CancellationToken.None),
                };
                Apply(row, counts: false);
                Log.BreakerProbeEnded(registry.Logger, Name, outcome.ToString(), row.State.ToString());
                return;
            }
            catch (Exception ex) when (CircuitBreakerRegistry.IsStoreFailure(ex))
            {
                registry.Degrade(ex);
            }
        }

        // PostgreSQL does not answer: the outcome decides the local breaker; the shared claim runs out with its lease.
        lock (gate)
        {
            localProbe = token;
            localState = CircuitState.HalfOpen;
        }

        CompleteLocalProbe(token, outcome);
    }

    private void CompleteLocalProbe(string token, BreakerOutcome outcome)
    {
        lock (gate)
        {
            if (localState != CircuitState.HalfOpen || localProbe != token)
            {
                return;
            }

            var now = registry.LocalNow;
            localProbe = null;
            switch (outcome)
            {
                case BreakerOutcome.Success:
                    localState = CircuitState.Closed;
                    window.Clear();
                    break;
                case BreakerOutcome.Failure:
                    OpenLocally(now, "the half-open probe failed");
                    break;
                default:
                    (localState, localOpenUntil) = (CircuitState.Open, now);
                    break;
            }

            Log.BreakerProbeEnded(registry.Logger, Name, outcome.ToString(), localState.ToString());
        }
    }

    private void OpenLocally(DateTimeOffset now, string reason)
    {
        (localState, localOpenUntil, localProbe) = (CircuitState.Open, now + Settings.BreakDuration, null);
        window.Clear();
        Log.BreakerOpenedLocally(registry.Logger, Name, Settings.BreakDuration, reason);
    }

    private bool Trips((long Successes, long Failures) counts)
    {
        var throughput = counts.Successes + counts.Failures;
        return throughput >= Settings.MinimumThroughput && counts.Failures >= Settings.FailureRatio * throughput;
    }

    /// <summary>
    /// How long a call refused during another call's probe should wait: until the probe's lease ends at the latest,
    /// but no longer than one break, since a probe ends (closing the breaker, or re-opening it for one break) long
    /// before a lease sized for the slowest call runs out.
    /// </summary>
    private TimeSpan WhileProbing(TimeSpan leaseLeft) => leaseLeft < Settings.BreakDuration ? leaseLeft : Settings.BreakDuration;

    private BrokenCircuitException Broken(TimeSpan retryAfter, string what)
    {
        var wait = retryAfter < TimeSpan.Zero ? TimeSpan.Zero : retryAfter;
        return new BrokenCircuitException(
            string.Create(CultureInfo.InvariantCulture, $"The circuit breaker '{Name}' {what}; retry after {wait.TotalSeconds:0.#} s."), wait);
    }
}
