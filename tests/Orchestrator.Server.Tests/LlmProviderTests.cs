using System.Diagnostics;
using System.Text.Json.Nodes;
using Orchestrator.Server.Tests.Infrastructure;
using Xunit.Abstractions;

namespace Orchestrator.Server.Tests;

/// <summary>
/// LLM providers behind cluster-wide breakers and limits, seen from outside: two Servers on one database and task
/// hub, named providers on two fake OpenAI-compatible servers. Each test uses its own provider, so breaker state and
/// limits never leak between tests.
/// </summary>
[Collection(EndToEnd.Name)]
public sealed class LlmProviderTests(LlmProviderTests.Cluster cluster, ITestOutputHelper output) : IClassFixture<LlmProviderTests.Cluster>
{
    // Redacted by its configured value, whatever its shape; plainly a test value.
    private const string StrictKey = "strict-test-credential";
    private static readonly TimeSpan BreakDuration = TimeSpan.FromSeconds(5);

    [Fact]
    public async Task An_open_breaker_is_obeyed_by_both_instances_lets_one_probe_through_per_break_and_closes_when_a_probe_succeeds()
    {
        var tag = Definitions.Tag();
        cluster.Llm.Fail(tag, 503, "provider outage");
        var ids = await StartOnBothAsync(8, i => Chain(tag, 1, "breaker"), i => $"run {i}");

        var (firstOpen, secondOpen) = await OpenOnBothAsync("breaker");
        output.WriteLine($"open on both: the second instance followed {(secondOpen - firstOpen).TotalSeconds:0.00} s after the first");
        Assert.True(secondOpen - firstOpen < TimeSpan.FromSeconds(2), $"the second instance saw the breaker open {(secondOpen - firstOpen).TotalSeconds:0.0} s after the first");
        var (_, health, _) = await cluster.ApiB.GetAsync("/health");
        var breakers = health!["checks"]!["llm-breakers"]!;
        Assert.Equal("degraded", breakers["status"]!.GetValue<string>());
        Assert.Contains("breaker (", breakers["description"]!.GetValue<string>(), StringComparison.Ordinal);

        // While the provider keeps failing, only probes reach it: one per break, never two at once.
        var before = cluster.Llm.CountContaining(tag);
        await Task.Delay(2 * BreakDuration + TimeSpan.FromSeconds(1));
        var probes = cluster.Llm.Containing(tag).Skip(before).Select(r => r.At).ToList();
        output.WriteLine($"{before} requests before both were open; then {probes.Count} probe(s) in {(2 * BreakDuration).TotalSeconds + 1:0} s");
        Assert.InRange(probes.Count, 1, 3);
        for (var i = 1; i < probes.Count; i++)
        {
            Assert.True(probes[i] - probes[i - 1] > BreakDuration - TimeSpan.FromSeconds(1), $"two probes {(probes[i] - probes[i - 1]).TotalSeconds:0.0} s apart");
        }

        cluster.Llm.Heal(tag);
        foreach (var id in ids)
        {
            await cluster.Api.WaitForStatusAsync(id, "Completed", TimeSpan.FromSeconds(90));
        }

        Assert.Equal(0, await BreakerAsync(cluster.Api.Http, "breaker"));
        Assert.Equal(0, await BreakerAsync(cluster.ApiB.Http, "breaker"));
    }

    [Fact]
    public async Task A_failing_primary_is_skipped_for_the_backup_and_every_step_records_who_served_it_and_why()
    {
        var tag = Definitions.Tag();
        cluster.Llm.Fail(tag, 503, "primary down");
        var chain = new JsonArray("primary", new JsonObject { ["name"] = "backup", ["model"] = "backup-model" });
        var ids = await StartOnBothAsync(4, _ => Chain(tag, 2, chain), i => $"fallback {i}");

        foreach (var id in ids)
        {
            var run = await cluster.Api.WaitForStatusAsync(id, "Completed");
            foreach (var step in run["steps"]!.AsArray())
            {
                Assert.Equal("backup", step!["provider"]!.GetValue<string>());
                Assert.Equal("backup-model", step["model"]!.GetValue<string>());
                var skipped = step["skippedProviders"]!.AsArray().Single()!;
                Assert.Equal("primary", skipped["provider"]!.GetValue<string>());
                Assert.False(string.IsNullOrWhiteSpace(skipped["reason"]!.GetValue<string>()));
            }

            Assert.Equal("backup", run["usage"]!.AsArray().Single()!["provider"]!.GetValue<string>());
        }

        Assert.Equal(8, cluster.Backup.CountContaining(tag));
    }

    [Fact]
    public async Task A_sixty_second_outage_of_the_only_provider_delays_twenty_runs_and_fails_none()
    {
        var tag = Definitions.Tag();
        cluster.Llm.Fail(tag, 503, "total outage");
        var outage = Stopwatch.StartNew();
        var ids = await StartOnBothAsync(20, _ => Chain(tag, 1, "outage"), i => $"outage {i}");
        await Task.Delay(TimeSpan.FromSeconds(60) - outage.Elapsed);
        var during = cluster.Llm.CountContaining(tag);
        cluster.Llm.Heal(tag);

        var clock = Stopwatch.StartNew();
        foreach (var id in ids)
        {
            await cluster.Api.WaitForStatusAsync(id, "Completed", TimeSpan.FromSeconds(120));
        }

        // Before the breaker opens each run's first attempt may go out (20) and the breaker needs its minimum
        // throughput; after that only one probe per break: 60 s / 5 s.
        var allowed = 20 + 4 + (int)Math.Ceiling(60 / BreakDuration.TotalSeconds) + 1;
        output.WriteLine($"the provider saw {during} requests during the outage (at most {allowed} allowed); all 20 runs completed {clock.Elapsed.TotalSeconds:0.0} s after it ended");
        Assert.True(during <= allowed, $"the provider saw {during} requests during the outage, more than the breaker lets through ({allowed})");
    }

    [Fact]
    public async Task A_429_with_Retry_After_3_is_retried_no_sooner_than_3_seconds_later()
    {
        var tag = Definitions.Tag();
        cluster.Llm.Fail(tag, 429, "Rate limit reached for requests", retryAfter: 3);
        var retry = new JsonObject { ["maxAttempts"] = 5, ["firstInterval"] = "1s" };
        var id = await cluster.Api.StartAsync(Chain(tag, 1, "throttled", retry), new JsonObject { ["text"] = "throttled" });
        var first = await cluster.Llm.WaitForAsync(tag);
        cluster.Llm.Heal(tag);

        await cluster.Api.WaitForStatusAsync(id, "Completed");
        var second = cluster.Llm.Containing(tag)[1];
        output.WriteLine($"the second attempt came {(second.At - first.At).TotalSeconds:0.00} s after the 429");
        Assert.True(second.At - first.At >= TimeSpan.FromSeconds(3), $"the second attempt came {(second.At - first.At).TotalSeconds:0.00} s after a Retry-After of 3 s");
    }

    [Fact]
    public async Task A_permanent_error_fails_the_step_at_once_without_a_retry_and_the_key_is_never_stored_or_logged()
    {
        var tag = Definitions.Tag();
        cluster.Llm.Fail(tag, 401, $"Incorrect API key provided: {StrictKey}. Find your key in your account settings.");
        var retry = new JsonObject { ["maxAttempts"] = 5, ["firstInterval"] = "1s" };
        var clock = Stopwatch.StartNew();
        var id = await cluster.Api.StartAsync(Chain(tag, 1, "strict", retry), new JsonObject { ["text"] = "denied" });

        var run = await cluster.Api.WaitForStatusAsync(id, "Failed");
        output.WriteLine($"failed after {clock.Elapsed.TotalSeconds:0.0} s: {run["error"]}");
        Assert.Equal(1, cluster.Llm.CountContaining(tag));
        Assert.Contains("HTTP 401", run["error"]!.GetValue<string>(), StringComparison.Ordinal);
        Assert.DoesNotContain(StrictKey, run.ToJsonString(), StringComparison.Ordinal);
        Assert.Equal(0, await cluster.ScalarAsync(
            "SELECT (SELECT count(*) FROM workflow_steps WHERE error LIKE @k OR output LIKE @k) + (SELECT count(*) FROM workflow_states WHERE error LIKE @k)",
            ("k", $"%{StrictKey}%")));
        Assert.DoesNotContain(StrictKey, cluster.Server.Output, StringComparison.Ordinal);
        Assert.DoesNotContain(StrictKey, cluster.ServerB.Output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_concurrency_limit_of_5_holds_across_both_instances_for_50_concurrent_steps()
    {
        var tag = Definitions.Tag();
        cluster.Llm.Delay(tag, TimeSpan.FromMilliseconds(400));
        cluster.Llm.ResetConcurrency();
        var ids = await StartOnBothAsync(10, _ => Fanout(tag, 5, "narrow"), i => new JsonObject { ["items"] = new JsonArray(0, 1, 2, 3, 4), ["text"] = $"narrow {i}" });

        foreach (var id in ids)
        {
            await cluster.Api.WaitForStatusAsync(id, "Completed", TimeSpan.FromSeconds(120));
        }

        output.WriteLine($"at most {cluster.Llm.MaxConcurrency} requests at once for {cluster.Llm.CountContaining(tag)} steps");
        Assert.Equal(50, cluster.Llm.CountContaining(tag));
        Assert.InRange(cluster.Llm.MaxConcurrency, 1, 5);
    }

    [Fact]
    public async Task A_limit_of_60_requests_a_minute_holds_across_both_instances()
    {
        var tag = Definitions.Tag();
        await StartOnBothAsync(20, _ => Chain(tag, 4, "metered"), i => $"metered {i}");
        var clock = Stopwatch.StartNew();
        while (cluster.Llm.CountContaining(tag) < 65 && clock.Elapsed < TimeSpan.FromSeconds(100))
        {
            await Task.Delay(500);
        }

        var times = cluster.Llm.Containing(tag).Select(r => r.At).Order().ToList();
        var busiest = times.Select((t, i) => times.Skip(i).TakeWhile(u => u - t < TimeSpan.FromMinutes(1)).Count()).Max();
        output.WriteLine($"{times.Count} requests in {clock.Elapsed.TotalSeconds:0} s; the busiest minute held {busiest}");
        Assert.True(times.Count > 60, $"only {times.Count} requests in {clock.Elapsed.TotalSeconds:0} s: the limit let less through than it allows");
        Assert.True(busiest <= 60, $"{busiest} requests within one minute against a limit of 60");
    }

    [Fact]
    public async Task Fault_injection_is_reported_in_health_and_its_faults_never_reach_the_provider()
    {
        var tag = Definitions.Tag();
        var definition = Chain(tag, 1, "chaotic");
        definition["steps"]![0]!["timeout"] = "4s";
        var id = await cluster.Api.StartAsync(definition, new JsonObject { ["text"] = "chaos" });

        var run = await cluster.Api.WaitForStatusAsync(id, "Failed", TimeSpan.FromSeconds(30));
        var (_, health, _) = await cluster.Api.GetAsync("/health");

        Assert.Contains("did not finish within 4s", run["error"]!.GetValue<string>(), StringComparison.Ordinal);
        Assert.Equal(0, cluster.Llm.CountContaining(tag));
        var chaos = health!["checks"]!["llm-chaos"]!;
        Assert.Equal("degraded", chaos["status"]!.GetValue<string>());
        Assert.Contains("chaotic", chaos["description"]!.GetValue<string>(), StringComparison.Ordinal);
    }

    private Task<List<string>> StartOnBothAsync(int count, Func<int, JsonObject> definition, Func<int, string> text) =>
        StartOnBothAsync(count, definition, i => new JsonObject { ["text"] = text(i) });

    /// <summary>Starts runs alternately on A and B.</summary>
    private async Task<List<string>> StartOnBothAsync(int count, Func<int, JsonObject> definition, Func<int, JsonObject> input)
    {
        var ids = new List<string>();
        for (var i = 0; i < count; i++)
        {
            var api = i % 2 == 0 ? cluster.Api : cluster.ApiB;
            ids.Add(await api.StartAsync(definition(i), input(i)));
        }

        return ids;
    }

    /// <summary>When each instance first reported the provider's breaker open (polled every 100 ms, for at most 60 s).</summary>
    private async Task<(TimeSpan First, TimeSpan Second)> OpenOnBothAsync(string provider)
    {
        var clock = Stopwatch.StartNew();
        TimeSpan? a = null, b = null;
        while ((a is null || b is null) && clock.Elapsed < TimeSpan.FromSeconds(60))
        {
            a ??= await BreakerAsync(cluster.Api.Http, provider) == 1 ? clock.Elapsed : null;
            b ??= await BreakerAsync(cluster.ApiB.Http, provider) == 1 ? clock.Elapsed : null;
            await Task.Delay(100);
        }

        Assert.True(a is not null && b is not null, $"the breaker did not open on both instances (A: {a}, B: {b})");
        return a < b ? (a!.Value, b!.Value) : (b!.Value, a!.Value);
    }

    private static async Task<double> BreakerAsync(HttpClient http, string provider) =>
        PrometheusText.Value(await http.GetStringAsync("/metrics"), $"llm_orchestrator_circuit_breaker_state{{name=\"{provider}\"}}");

    private static JsonObject Chain(string tag, int steps, JsonNode provider, JsonObject? retry = null)
    {
        var definition = Definitions.Chain(tag, steps, retry);
        definition["defaults"] = new JsonObject { ["provider"] = provider.DeepClone() };
        return definition;
    }

    private static JsonObject Fanout(string tag, int items, string provider) => new()
    {
        ["name"] = "fanout",
        ["version"] = 1,
        ["defaults"] = new JsonObject { ["provider"] = provider },
        ["steps"] = new JsonArray
        {
            new JsonObject
            {
                ["id"] = "each",
                ["type"] = "map",
                ["items"] = "input.items",
                ["maxParallel"] = items,
                ["step"] = new JsonObject { ["id"] = "call", ["type"] = "llm", ["prompt"] = $"{tag} item {{{{ item }}}} of {{{{ run.id }}}}" },
            },
        },
    };

    /// <summary>Two Servers (A is the base fixture's) on one database and task hub, and a second fake LLM as the backup provider.</summary>
    public sealed class Cluster : TwoServerFixture
    {
        public FakeOpenAiServer Backup { get; private set; } = null!;

        public override async Task InitializeAsync()
        {
            Backup = await FakeOpenAiServer.StartAsync();
            await base.InitializeAsync();
        }

        public override async Task DisposeAsync()
        {
            await base.DisposeAsync();
            if (Backup is not null)
            {
                await Backup.DisposeAsync();
            }
        }

        protected override Dictionary<string, string?> SettingsFor(string instance)
        {
            var settings = new Dictionary<string, string?>
            {
                ["Durable__WorkerId"] = $"e2e-{TaskHub}-{instance}",
                ["Instance__Id"] = $"e2e-{TaskHub}-{instance}",
            };
            void Provider(string name, string endpoint, params (string Key, string Value)[] extra)
            {
                settings[$"Llm__Providers__{name}__Endpoint"] = endpoint;
                settings[$"Llm__Providers__{name}__ApiKey"] = name == "strict" ? StrictKey : "test-key";
                settings[$"Llm__Providers__{name}__Model"] = "fake-model";
                foreach (var (key, value) in extra)
                {
                    settings[$"Llm__Providers__{name}__{key}"] = value;
                }
            }

            // The fake LLM's base URL is known only once it runs: the base fixture starts it before its Server.
            var llm = Llm?.BaseUrl ?? throw new InvalidOperationException("the fake LLM is not running yet");
            (string, string)[] quickBreaker =
            [
                ("Breaker__MinimumThroughput", "4"), ("Breaker__FailureRatio", "0.5"),
                ("Breaker__SamplingDuration", "00:00:30"), ("Breaker__BreakDuration", "00:00:05"),
            ];
            Provider("breaker", llm, quickBreaker);
            Provider("outage", llm, quickBreaker);
            Provider("primary", llm, quickBreaker);
            Provider("backup", Backup.BaseUrl);
            Provider("throttled", llm);
            Provider("strict", llm);
            Provider("narrow", llm, ("MaxConcurrency", "5"));
            Provider("metered", llm, ("RequestsPerMinute", "60"));
            Provider("chaotic", llm, ("Chaos__FaultRate", "1"));
            return settings;
        }
    }
}
