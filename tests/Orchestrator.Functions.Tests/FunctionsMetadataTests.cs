using System.Text.Json.Nodes;

namespace Orchestrator.Functions.Tests;

/// <summary>The Functions build output declares every function with the trigger, methods and route the host needs.</summary>
public sealed class FunctionsMetadataTests
{
    private static readonly Lazy<JsonArray> Metadata = new(() =>
    {
        var path = Path.Combine(FunctionsOutput, "functions.metadata");
        Assert.True(File.Exists(path), $"functions.metadata not found at {path}");
        return JsonNode.Parse(File.ReadAllText(path))!.AsArray();
    });

    // Admin routes cannot start with "admin" in the Functions host (its own admin API); the constrained parameter
    // still serves /api/admin/... .
    private const string Admin = "{area:regex(^admin$)}/";

    public static TheoryData<string, string, string?, string?, string?> Expected => new()
    {
        { "WorkflowOrchestrator", "orchestrationTrigger", null, null, null },
        { "RunLlmStep", "activityTrigger", null, null, null },
        { "FinishRun", "activityTrigger", null, null, null },
        { "RecordStep", "activityTrigger", null, null, null },
        { "RaiseWorkflowEvent", "httpTrigger", "post", "v1/workflows/{id}/events/{name}", "function" },
        { "ListDefinitions", "httpTrigger", "get", "v1/definitions", "function" },
        { "GetDefinition", "httpTrigger", "get", "v1/definitions/{name}", "function" },
        { "StartWorkflow", "httpTrigger", "post", "v1/workflows", "function" },
        { "ListWorkflows", "httpTrigger", "get", "v1/workflows", "function" },
        { "GetWorkflow", "httpTrigger", "get", "v1/workflows/{id}", "function" },
        { "CancelWorkflow", "httpTrigger", "post", "v1/workflows/{id}/cancel", "function" },
        { "RetryWorkflow", "httpTrigger", "post", "v1/workflows/{id}/retry", "function" },
        { "ListIncidents", "httpTrigger", "get", "v1/incidents", "function" },
        { "GetIncident", "httpTrigger", "get", "v1/incidents/{id}", "function" },
        { "GetIncidentReport", "httpTrigger", "get", "v1/incidents/{id}/report", "function" },
        { "AcknowledgeIncident", "httpTrigger", "post", "v1/incidents/{id}/acknowledge", "function" },
        { "ResolveIncident", "httpTrigger", "post", "v1/incidents/{id}/resolve", "function" },
        { "ResetCircuitBreakers", "httpTrigger", "post", Admin + "circuit-breaker/reset", "function" },
        { "GetMaintenance", "httpTrigger", "get", Admin + "maintenance", "function" },
        { "EnableMaintenance", "httpTrigger", "post", Admin + "maintenance/enable", "function" },
        { "DisableMaintenance", "httpTrigger", "post", Admin + "maintenance/disable", "function" },
        { "GetAdminAudit", "httpTrigger", "get", Admin + "audit", "function" },
        { "Health", "httpTrigger", "get", "health", "anonymous" },
        { "HealthReady", "httpTrigger", "get", "health/ready", "anonymous" },
        { "HealthLive", "httpTrigger", "get", "health/live", "anonymous" },
        { "Metrics", "httpTrigger", "get", "metrics", "anonymous" },
        { "Reconciler", "timerTrigger", null, null, null },
        { "ReplicaLagMonitor", "timerTrigger", null, null, null },
        { "ConnectionPoolMonitor", "timerTrigger", null, null, null },
        { "PrimaryDatabaseMonitor", "timerTrigger", null, null, null },
        { "StuckWorkflowsMonitor", "timerTrigger", null, null, null },
        { "FailureRateMonitor", "timerTrigger", null, null, null },
        { "CircuitBreakersMonitor", "timerTrigger", null, null, null },
        { "NoticeSender", "timerTrigger", null, null, null },
    };

    [Theory]
    [InlineData("ReplicaLagMonitor", "ReplicaLag")]
    [InlineData("ConnectionPoolMonitor", "ConnectionPool")]
    [InlineData("PrimaryDatabaseMonitor", "PrimaryDatabase")]
    [InlineData("StuckWorkflowsMonitor", "StuckWorkflows")]
    [InlineData("FailureRateMonitor", "FailureRate")]
    [InlineData("CircuitBreakersMonitor", "CircuitBreakers")]
    public void Each_monitor_runs_on_its_schedule_setting_which_the_sample_settings_give(string function, string check)
    {
        var declared = Metadata.Value.Single(f => f!["name"]!.GetValue<string>() == function)!;
        var trigger = declared["bindings"]!.AsArray().Single(b => b!["type"]!.GetValue<string>() == "timerTrigger")!;
        Assert.Equal($"%Monitors__{check}__Schedule%", trigger["schedule"]!.GetValue<string>());

        var sample = JsonNode.Parse(File.ReadAllText(Path.Combine(FunctionsBuild.RepositoryRoot, "local.settings.sample.json")))!["Values"]!;
        var schedule = sample[$"Monitors__{check}__Schedule"]?.GetValue<string>();
        Assert.NotNull(Orchestrator.Core.Monitoring.MonitorCheckOptions.ParseSchedule(schedule));
    }

    [Fact]
    public void The_reconciler_runs_on_the_schedule_setting_with_a_durable_client()
    {
        var function = Metadata.Value.Single(f => f!["name"]!.GetValue<string>() == "Reconciler")!;
        var bindings = function["bindings"]!.AsArray();
        Assert.Equal("%Reconciler__Schedule%", bindings.Single(b => b!["type"]!.GetValue<string>() == "timerTrigger")!["schedule"]!.GetValue<string>());
        Assert.Contains(bindings, b => b!["type"]!.GetValue<string>() == "durableClient");
    }

    [Theory]
    [MemberData(nameof(Expected))]
    public void Each_function_is_declared_with_its_trigger_route_and_auth_level(string name, string trigger, string? method, string? route, string? authLevel)
    {
        var function = Metadata.Value.SingleOrDefault(f => f!["name"]!.GetValue<string>() == name);
        Assert.True(function is not null, $"{name} is missing from functions.metadata");
        var bindings = function!["bindings"]!.AsArray();
        var triggerBinding = bindings.Single(b => b!["type"]!.GetValue<string>() == trigger)!;
        Assert.Equal("In", triggerBinding["direction"]!.GetValue<string>());
        if (route is not null)
        {
            Assert.Equal(route, triggerBinding["route"]!.GetValue<string>());
            Assert.Equal([method], triggerBinding["methods"]!.AsArray().Select(m => m!.GetValue<string>().ToLowerInvariant()));
            Assert.Equal(authLevel, triggerBinding["authLevel"]!.GetValue<string>().ToLowerInvariant());
            Assert.Contains(bindings, b => b!["type"]!.GetValue<string>() == "http" && b["direction"]!.GetValue<string>() == "Out");
        }
    }

    [Fact]
    public void Http_triggers_that_start_or_stop_runs_get_a_durable_client()
    {
        foreach (var name in new[] { "StartWorkflow", "CancelWorkflow", "RetryWorkflow", "RaiseWorkflowEvent" })
        {
            var function = Metadata.Value.Single(f => f!["name"]!.GetValue<string>() == name)!;
            Assert.Contains(function["bindings"]!.AsArray(), b => b!["type"]!.GetValue<string>() == "durableClient");
        }
    }

    [Fact]
    public void No_function_is_declared_that_the_product_does_not_know()
    {
        var known = Expected.Select(row => (string)row[0]).ToHashSet();
        Assert.All(Metadata.Value, f => Assert.Contains(f!["name"]!.GetValue<string>(), known));
    }

    [Fact]
    public void The_build_output_carries_host_json_and_the_worker_configuration()
    {
        Assert.True(File.Exists(Path.Combine(FunctionsOutput, "host.json")));
        Assert.True(File.Exists(Path.Combine(FunctionsOutput, "worker.config.json")));
        Assert.True(File.Exists(Path.Combine(FunctionsOutput, "definitions", "summarize-classify.yaml")));
        var host = JsonNode.Parse(File.ReadAllText(Path.Combine(FunctionsOutput, "host.json")))!;
        Assert.Equal("2.0", host["version"]!.GetValue<string>());
        Assert.Equal("api", host["extensions"]!["http"]!["routePrefix"]!.GetValue<string>());
    }

    private static string FunctionsOutput => FunctionsBuild.Output;
}
