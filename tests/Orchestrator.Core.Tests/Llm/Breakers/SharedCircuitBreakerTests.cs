using System.Diagnostics;
using System.Security.Claims;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using Npgsql;
using Orchestrator.Core.Api;
using Orchestrator.Core.Hosting;
using Orchestrator.Core.Llm;
using Orchestrator.Core.Llm.Breakers;
using Orchestrator.Core.Operations;
using Orchestrator.Core.Tests.Fakes;
using Polly;
using Polly.CircuitBreaker;

namespace Orchestrator.Core.Tests.Llm.Breakers;

/// <summary>
/// Two instances (two registries, each its own identity and sync loop at the default interval) on one database: the
/// breaker is one breaker for both, with one half-open probe in the whole cluster, and a local one without PostgreSQL.
/// </summary>
public sealed class SharedCircuitBreakerTests : IAsyncLifetime
{
    private const string Name = "openai";
    private static readonly TimeSpan Break = TimeSpan.FromSeconds(1);
    private static readonly TimeSpan Obeyed = TimeSpan.FromSeconds(2);

    // Past the break on every instance, whose estimate of the database clock may lag a loaded machine's reply delays.
    private static readonly TimeSpan AfterBreak = Break + TimeSpan.FromMilliseconds(700);

    private readonly PostgresDatabase database = new();
    private readonly List<Instance> instances = [];

    public Task InitializeAsync() => database.InitializeAsync();

    public async Task DisposeAsync()
    {
        foreach (var instance in instances)
        {
            await instance.Sync.StopAsync(CancellationToken.None);
            instance.Sync.Dispose();
        }

        await database.DisposeAsync();
    }

    [Fact]
    public async Task Failures_through_one_instance_open_the_breaker_for_the_other_within_two_seconds()
    {
        // A break long enough that B's refusal cannot be the break already over.
        var settings = new CircuitBreakerSettings { FailureRatio = 0.5, MinimumThroughput = 4, SamplingDuration = TimeSpan.FromSeconds(30), BreakDuration = TimeSpan.FromSeconds(30) };
        var (a, b) = (await StartAsync("a", settings: settings), await StartAsync("b", settings: settings));

        await FailAsync(a, 4);
        Assert.Equal(CircuitState.Open, a.Breaker.State);
        var seen = await WithinAsync(() => b.Breaker.State == CircuitState.Open);

        Assert.True(seen < Obeyed, $"B still saw the breaker closed {seen.TotalSeconds:0.00} s after A opened it");
        var (outcome, retryAfter) = await CallWithRetryAfterAsync(b);
        Assert.Equal(Outcome.Refused, outcome);
        // Up to the break, plus the error of this instance's estimate of the database clock.
        Assert.InRange(retryAfter!.Value, TimeSpan.FromSeconds(25), settings.BreakDuration + TimeSpan.FromSeconds(1));
        Assert.Equal(0, b.Admitted);
    }

    [Fact]
    public async Task After_the_break_twenty_concurrent_calls_across_both_instances_admit_exactly_one_probe()
    {
        var (a, b) = (await StartAsync("a"), await StartAsync("b"));
        await OpenEverywhereAsync(a, b);
        await Task.Delay(AfterBreak);

        var gate = new TaskCompletionSource();
        var calls = Enumerable.Range(0, 20).Select(i => CallAsync(i % 2 == 0 ? a : b, fail: false, gate.Task)).ToList();
        var refused = 0;
        while (refused < 19)
        {
            var done = await Task.WhenAny(calls).WaitAsync(TimeSpan.FromSeconds(10));
            Assert.Equal(Outcome.Refused, await done);
            calls.Remove(done);
            refused++;
        }

        // The one call left is the probe: its claim may still be on its way back from the database when the others
        // have been refused, so it reaches the provider a moment later; no other call ever does.
        await WithinAsync(() => a.Admitted + b.Admitted >= 1);
        Assert.Equal(1, a.Admitted + b.Admitted);
        Assert.Equal(CircuitState.HalfOpen, (await ReadRowAsync()).State);
        gate.SetResult();
        Assert.Equal(Outcome.Succeeded, await Assert.Single(calls));
    }

    [Fact]
    public async Task A_failed_probe_opens_the_breaker_again_for_both_and_a_successful_one_closes_it_for_both()
    {
        var (a, b) = (await StartAsync("a"), await StartAsync("b"));
        await OpenEverywhereAsync(a, b);
        var firstOpening = await ReadRowAsync();
        await Task.Delay(AfterBreak);

        Assert.Equal(Outcome.Failed, await CallAsync(b, fail: true));
        var reopened = await ReadRowAsync();
        Assert.Equal(CircuitState.Open, reopened.State);
        Assert.True(reopened.OpenUntil > firstOpening.OpenUntil, "the failed probe did not start another break");
        Assert.Equal(CircuitState.Open, b.Breaker.State);
        // A, whose own view said the first break was over, refuses rather than probing again.
        await WithinAsync(() => a.Breaker.State == CircuitState.Open && a.Registry.IsShared);
        Assert.Equal(Outcome.Refused, await CallAsync(a, fail: false));

        await Task.Delay(AfterBreak);
        Assert.Equal(Outcome.Succeeded, await CallAsync(a, fail: false));
        Assert.Equal(CircuitState.Closed, a.Breaker.State);
        var closed = await WithinAsync(() => b.Breaker.State == CircuitState.Closed);
        Assert.True(closed < Obeyed, $"B still saw the breaker open {closed.TotalSeconds:0.00} s after A's probe succeeded");
        Assert.Equal(Outcome.Succeeded, await CallAsync(b, fail: false));
    }

    [Fact]
    public async Task A_probe_whose_holder_never_reports_lets_one_other_probe_go_once_its_lease_runs_out()
    {
        var lease = TimeSpan.FromSeconds(1.5);
        var (a, b) = (await StartAsync("a", lease), await StartAsync("b", lease));
        await OpenEverywhereAsync(a, b);
        await Task.Delay(AfterBreak);

        var hung = new TaskCompletionSource();
        var lost = CallAsync(a, fail: true, hung.Task);
        await WithinAsync(() => a.Admitted == 1);
        var (outcome, retryAfter) = await CallWithRetryAfterAsync(b);
        Assert.Equal(Outcome.Refused, outcome);
        Assert.InRange(retryAfter!.Value, TimeSpan.Zero, lease);

        await Task.Delay(lease + TimeSpan.FromMilliseconds(200));
        var gate = new TaskCompletionSource();
        var calls = Enumerable.Range(0, 10).Select(i => CallAsync(i % 2 == 0 ? a : b, fail: false, gate.Task)).ToList();
        await WithinAsync(() => calls.Count(c => c.IsCompleted) == 9, TimeSpan.FromSeconds(10));
        Assert.Equal(2, a.Admitted + b.Admitted);
        gate.SetResult();
        Assert.All(await Task.WhenAll(calls), o => Assert.NotEqual(Outcome.Failed, o));
        Assert.Equal(CircuitState.Closed, (await ReadRowAsync()).State);

        // The first holder wakes up and fails: its lease is gone, so it changes nothing.
        hung.SetResult();
        Assert.Equal(Outcome.Failed, await lost);
        Assert.Equal(CircuitState.Closed, (await ReadRowAsync()).State);
        Assert.Equal(CircuitState.Closed, a.Breaker.State);
    }

    [Fact]
    public async Task A_reset_through_one_instance_closes_the_breaker_of_the_other_and_is_audited()
    {
        var (a, b) = (await StartAsync("a"), await StartAsync("b"));
        await OpenEverywhereAsync(a, b);
        var handlers = new AdminHttpHandlers(
            new OperationsStore(database.DataSource, TimeProvider.System), ClusterStates.For(database.DataSource), a.Registry,
            Options.Create(new ApiOptions()), NullLogger<AdminHttpHandlers>.Instance);
        var context = new DefaultHttpContext { User = new ClaimsPrincipal(new ClaimsIdentity([new Claim(ClaimTypes.Name, "admin-token")], "Bearer")) };
        context.Request.QueryString = new QueryString("?name=" + Name);

        var result = await handlers.ResetCircuitBreakersAsync(context.Request, default);

        Assert.Equal(StatusCodes.Status200OK, Assert.IsAssignableFrom<IStatusCodeHttpResult>(result).StatusCode);
        Assert.Equal(CircuitState.Closed, a.Breaker.State);
        Assert.Equal(Outcome.Succeeded, await CallAsync(a, fail: false));
        var closed = await WithinAsync(() => b.Breaker.State == CircuitState.Closed);
        Assert.True(closed < Obeyed, $"B still saw the breaker open {closed.TotalSeconds:0.00} s after the reset through A");
        Assert.Equal(Outcome.Succeeded, await CallAsync(b, fail: false));
        Assert.Contains(b.Logs.Lines, l => l.Contains("closed by a reset", StringComparison.Ordinal));
        var audit = Assert.Single(await new OperationsStore(database.DataSource, TimeProvider.System).GetAuditAsync(10, default));
        Assert.Equal(("admin-token", "circuit-breaker.reset", Name, true), (audit.Actor, audit.Action, audit.Target, audit.Changed));

        // A new epoch: the four failures before the reset no longer count (with them, one more would open it). The two
        // successes since (one through each instance) do: one failure leaves it closed, a second (2 of 4) opens it for both.
        await FailAsync(b, 1);
        Assert.True(await a.Registry.SyncAsync(default));
        Assert.True(await b.Registry.SyncAsync(default));
        Assert.Equal(CircuitState.Closed, (await ReadRowAsync()).State);
        await FailAsync(b, 1);
        Assert.Equal(CircuitState.Open, (await ReadRowAsync()).State);
        await WithinAsync(() => a.Breaker.State == CircuitState.Open);
    }

    [Fact]
    public async Task Failures_split_between_instances_each_under_the_minimum_throughput_open_the_breaker_for_both()
    {
        var settings = new CircuitBreakerSettings { FailureRatio = 0.5, MinimumThroughput = 10, SamplingDuration = TimeSpan.FromSeconds(30), BreakDuration = TimeSpan.FromSeconds(30) };
        var (a, b) = (await StartAsync("a", settings: settings), await StartAsync("b", settings: settings));

        await FailAsync(a, 6);
        // One tick of each, in order (their loops tick too, at their own pace): A's six are written, then B reads them.
        Assert.True(await a.Registry.SyncAsync(default));
        Assert.True(await b.Registry.SyncAsync(default));
        Assert.Equal(CircuitState.Closed, a.Breaker.State);
        // B opens it at once on its own view (A's six, as last read, plus its own) — with fewer than ten failures of its own.
        var failedOnB = await FailUntilRefusedAsync(b, 9);
        Assert.Equal(4, failedOnB);

        var opened = await WithinAsync(() => a.Breaker.State == CircuitState.Open && b.Breaker.State == CircuitState.Open, TimeSpan.FromSeconds(10));
        Assert.True(opened < TimeSpan.FromSeconds(3), $"12 failures over two instances had not opened the breaker for both after {opened.TotalSeconds:0.00} s");
        Assert.Equal(Outcome.Refused, await CallAsync(a, fail: false));
        Assert.Equal(Outcome.Refused, await CallAsync(b, fail: false));
    }

    [Fact]
    public async Task A_database_that_stops_answering_sends_the_breakers_to_their_local_counts_within_its_time_limit_and_back_when_it_answers()
    {
        await using var relay = new TcpRelay(new NpgsqlConnectionStringBuilder(database.ConnectionString).Port);
        await using var relayed = NpgsqlDataSource.Create(new NpgsqlConnectionStringBuilder(database.ConnectionString) { Port = relay.Port }.ConnectionString);
        var limit = new SharedBreakerOptions { DatabaseTimeout = TimeSpan.FromSeconds(1) };
        var logs = new RecordingLogger<CircuitBreakerRegistry>();
        var registry = new CircuitBreakerRegistry(
            new CircuitBreakerStore(relayed, Options.Create(limit), TimeProvider.System), new InstanceIdentity("a"),
            Options.Create(limit), TimeProvider.System, logs);
        registry.Register(Name, new CircuitBreakerSettings());
        Assert.True(await registry.SyncAsync(default), string.Join("\n", logs.Lines));

        relay.Stall();
        var clock = Stopwatch.StartNew();
        Assert.False(await registry.SyncAsync(default));

        // About the time limit; unbounded, Npgsql's cancellation and command timeout would hold the tick (and every call
        // waiting on the same state) for 30 s and more.
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(2.5), $"the tick took {clock.Elapsed.TotalSeconds:0.0} s to give up");
        Assert.False(registry.IsShared);
        relay.Resume();
        // The loop ticks every second; the first tick may still meet a connection the stall broke.
        var back = Stopwatch.StartNew();
        while (!await registry.SyncAsync(default))
        {
            Assert.True(back.Elapsed < TimeSpan.FromSeconds(10), "the breakers did not go back to the shared state");
            await Task.Delay(200);
        }

        Assert.True(registry.IsShared);
    }

    [Fact]
    public async Task Without_PostgreSQL_the_local_breaker_opens_and_lets_one_local_probe_go_after_the_break()
    {
        await using var unreachable = NpgsqlDataSource.Create("Host=127.0.0.1;Port=1;Timeout=1;Command Timeout=1;Username=postgres;Password=postgres;Database=workflows");
        var a = await StartAsync("a", dataSource: unreachable);
        Assert.False(await a.Registry.SyncAsync(default));
        Assert.False(a.Registry.IsShared);
        Assert.Equal(Outcome.Succeeded, await CallAsync(a, fail: false));

        // One success and three failures: four calls, 75 % failed.
        await FailAsync(a, 3);
        Assert.Equal(CircuitState.Open, a.Breaker.State);
        Assert.Equal(Outcome.Refused, await CallAsync(a, fail: false));

        await Task.Delay(AfterBreak);
        a.Admitted = 0;
        var gate = new TaskCompletionSource();
        var calls = Enumerable.Range(0, 10).Select(_ => CallAsync(a, fail: false, gate.Task)).ToList();
        await WithinAsync(() => calls.Count(c => c.IsCompleted) == 9, TimeSpan.FromSeconds(10));
        Assert.Equal(CircuitState.HalfOpen, a.Breaker.State);
        Assert.Equal(1, a.Admitted);
        gate.SetResult();
        await Task.WhenAll(calls);
        Assert.Equal(CircuitState.Closed, a.Breaker.State);
    }

    private async Task<Instance> StartAsync(string id, TimeSpan? lease = null, CircuitBreakerSettings? settings = null, NpgsqlDataSource? dataSource = null)
    {
        var logs = new RecordingLogger<CircuitBreakerRegistry>();
        var registry = new CircuitBreakerRegistry(
            new CircuitBreakerStore(dataSource ?? database.DataSource, Options.Create(new SharedBreakerOptions()), TimeProvider.System), new InstanceIdentity(id),
            Options.Create(new SharedBreakerOptions { ProbeLease = lease ?? TimeSpan.FromSeconds(30) }), TimeProvider.System, logs);
        var breaker = registry.Register(Name, settings ?? new CircuitBreakerSettings
        {
            FailureRatio = 0.5,
            MinimumThroughput = 4,
            SamplingDuration = TimeSpan.FromSeconds(30),
            BreakDuration = Break,
        });
        var instance = new Instance(registry, breaker, new CircuitBreakerSync(registry, TimeProvider.System, NullLogger<CircuitBreakerSync>.Instance), logs);
        instances.Add(instance);
        if (dataSource is null)
        {
            Assert.True(await registry.SyncAsync(default));
            await instance.Sync.StartAsync(default);
        }

        return instance;
    }

    private static async Task OpenEverywhereAsync(Instance a, Instance b)
    {
        await FailAsync(a, 4);
        await WithinAsync(() => b.Breaker.State == CircuitState.Open);
        Assert.Equal(CircuitState.Open, b.Breaker.State);
        (a.Admitted, b.Admitted) = (0, 0);
    }

    private static async Task FailAsync(Instance instance, int times)
    {
        for (var i = 0; i < times; i++)
        {
            Assert.Equal(Outcome.Failed, await CallAsync(instance, fail: true));
        }
    }

    /// <summary>Failing calls until one is refused (at most <paramref name="max"/>); how many failed.</summary>
    private static async Task<int> FailUntilRefusedAsync(Instance instance, int max)
    {
        for (var i = 0; i < max; i++)
        {
            if (await CallAsync(instance, fail: true) == Outcome.Refused)
            {
                return i;
            }
        }

        return max;
    }

    private static async Task<Outcome> CallAsync(Instance instance, bool fail, Task? gate = null) => (await CallWithRetryAfterAsync(instance, fail, gate)).Outcome;

    private static async Task<(Outcome Outcome, TimeSpan? RetryAfter)> CallWithRetryAfterAsync(Instance instance, bool fail = false, Task? gate = null)
    {
        try
        {
            await instance.Pipeline.ExecuteAsync(async _ =>
            {
                instance.Admit();
                if (gate is not null)
                {
                    await gate;
                }

                if (fail)
                {
                    throw new LlmUnavailableException("provider down");
                }
            });
            return (Outcome.Succeeded, null);
        }
        catch (LlmUnavailableException)
        {
            return (Outcome.Failed, null);
        }
        catch (BrokenCircuitException ex)
        {
            return (Outcome.Refused, ex.RetryAfter);
        }
    }

    private async Task<(CircuitState State, DateTimeOffset? OpenUntil)> ReadRowAsync()
    {
        await using var command = database.DataSource.CreateCommand("SELECT state, open_until FROM circuit_breakers WHERE name = $1");
        command.Parameters.Add(new NpgsqlParameter { Value = Name });
        await using var reader = await command.ExecuteReaderAsync();
        Assert.True(await reader.ReadAsync());
        return ((CircuitState)reader.GetInt16(0), reader.IsDBNull(1) ? null : reader.GetFieldValue<DateTimeOffset>(1));
    }

    /// <summary>How long until <paramref name="condition"/> holds (polled every 20 ms); fails the test when it does not within <paramref name="limit"/> (5 s by default).</summary>
    private static async Task<TimeSpan> WithinAsync(Func<bool> condition, TimeSpan? limit = null)
    {
        var clock = Stopwatch.StartNew();
        while (!condition())
        {
            Assert.True(clock.Elapsed < (limit ?? TimeSpan.FromSeconds(5)), $"the condition did not hold within {(limit ?? TimeSpan.FromSeconds(5)).TotalSeconds:0.#} s");
            await Task.Delay(20);
        }

        return clock.Elapsed;
    }

    private enum Outcome
    {
        Succeeded,
        Failed,
        Refused,
    }

    private sealed class Instance(CircuitBreakerRegistry registry, SharedCircuitBreaker breaker, CircuitBreakerSync sync, RecordingLogger<CircuitBreakerRegistry> logs)
    {
        private int admitted;

        public CircuitBreakerRegistry Registry { get; } = registry;

        public SharedCircuitBreaker Breaker { get; } = breaker;

        public CircuitBreakerSync Sync { get; } = sync;

        public RecordingLogger<CircuitBreakerRegistry> Logs { get; } = logs;

        public ResiliencePipeline Pipeline { get; } = new ResiliencePipelineBuilder()
            .AddSharedCircuitBreaker(breaker, new PredicateBuilder().Handle<LlmUnavailableException>().Build())
            .Build();

        /// <summary>Calls that reached the provider (the pipeline's callback ran).</summary>
        public int Admitted
        {
            get => Volatile.Read(ref admitted);
            set => Volatile.Write(ref admitted, value);
        }

        public void Admit() => Interlocked.Increment(ref admitted);
    }
}
