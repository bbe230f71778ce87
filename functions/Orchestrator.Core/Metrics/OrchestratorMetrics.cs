using Prometheus;

namespace Orchestrator.Core.Metrics;

/// <summary>
/// Every Prometheus series of the product (prefix <c>llm_orchestrator_</c>), in one registry per process. Counts the
/// runbook reads (runs by status, error totals, maintenance) are set from PostgreSQL at scrape time, so any instance
/// behind one URL answers the same; pool, breaker and LLM call figures are this process's own.
/// </summary>
public sealed class OrchestratorMetrics
{
    public const string Prefix = "llm_orchestrator_";

    public OrchestratorMetrics()
    {
        Registry = Prometheus.Metrics.NewCustomRegistry();
        DotNetStats.Register(Registry);
        var factory = Prometheus.Metrics.WithCustomRegistry(Registry);

        Workflows = factory.CreateGauge(Prefix + "workflows", "Workflow runs by status, across the cluster (from PostgreSQL).", "status");
        WorkflowErrors = factory.CreateCounter(Prefix + "workflow_error_total", "Workflow runs that failed, across the cluster (from PostgreSQL).");
        StepErrors = factory.CreateCounter(Prefix + "step_error_total", "Failed step attempts by step type, across the cluster (from PostgreSQL).", "type");
        foreach (var type in new[] { Definitions.StepTypes.Llm, Definitions.StepTypes.Map, Definitions.StepTypes.Approval, Definitions.StepTypes.Transform })
        {
            StepErrors.WithLabels(type); // every step type's series exists from the start, at 0
        }

        MaintenanceMode = factory.CreateGauge(Prefix + "maintenance_mode", "1 while maintenance mode refuses new workflows (cluster-wide state in PostgreSQL, as this instance obeys it).");
        DatabaseReads = factory.CreateCounter(Prefix + "metrics_database_reads_total", "Scrape-time reads of PostgreSQL for the cluster-wide series (at most one per cache period).");
        SnapshotRefreshes = factory.CreateCounter(Prefix + "metrics_snapshot_refreshes_total", "Times this instance recomputed the run counts shared by the cluster (one instance per cache period).");
        DatabaseUp = factory.CreateGauge(Prefix + "metrics_database_up", "1 when the last scrape-time read of PostgreSQL succeeded; 0 means the cluster-wide series are stale.");
        ReplicationLag = factory.CreateGauge(Prefix + "db_replication_lag_seconds", "Replay lag of each streaming replica; 0 when it has replayed everything sent (from pg_stat_replication).", "replica");
        ReplicationLagBytes = factory.CreateGauge(Prefix + "db_replication_lag_bytes", "WAL bytes each streaming replica has yet to replay (from pg_stat_replication).", "replica");
        ReplicasConnected = factory.CreateGauge(Prefix + "db_replicas_connected", "Streaming replicas connected to the primary.");

        PoolConnections = factory.CreateGauge(Prefix + "db_pool_connections", "Connections of this process's PostgreSQL pool by state.", "state");
        PoolMaxConnections = factory.CreateGauge(Prefix + "db_pool_max_connections", "Maximum size of this process's PostgreSQL pool.");
        PoolPendingRequests = factory.CreateGauge(Prefix + "db_pool_pending_requests", "Requests of this process waiting for a pooled PostgreSQL connection.");
        PoolTimeouts = factory.CreateCounter(Prefix + "db_pool_timeout_total", "Times this process gave up waiting for a pooled PostgreSQL connection.");

        CircuitBreakerState = factory.CreateGauge(Prefix + "circuit_breaker_state", "LLM circuit breaker state, cluster-wide as this instance last read it (its own while PostgreSQL does not answer): 0 closed, 1 open, 2 half-open.", "name");

        IncidentsOpen = factory.CreateGauge(Prefix + "incidents_open", "Unresolved incidents (open or acknowledged) by severity, across the cluster (from PostgreSQL).", "severity");
        foreach (var severity in Enum.GetNames<Incidents.Severity>())
        {
            IncidentsOpen.WithLabels(severity); // every severity's series exists from the start, at 0
        }

        StepDuration = factory.CreateHistogram(Prefix + "step_duration_seconds", "Duration of steps that ran in this process, by type and outcome.",
            new HistogramConfiguration { LabelNames = ["type", "outcome"], Buckets = Histogram.ExponentialBuckets(0.01, 2.5, 12) });
        LlmRequests = factory.CreateCounter(Prefix + "llm_requests_total", "LLM calls made by this process, by provider and outcome.", "provider", "outcome");
        LlmTokens = factory.CreateCounter(Prefix + "llm_tokens_total", "LLM tokens used by this process, by provider, model and direction (input/output).", "provider", "model", "direction");
        LlmCost = factory.CreateCounter(Prefix + "llm_cost_usd_total", "LLM cost in USD of this process's calls, by provider.", "provider");
        LlmDuration = factory.CreateHistogram(Prefix + "llm_request_duration_seconds", "Duration of LLM calls made by this process, by provider.",
            new HistogramConfiguration { LabelNames = ["provider"], Buckets = Histogram.ExponentialBuckets(0.05, 2, 12) });

        Notices = factory.CreateCounter(Prefix + "notices_total", "Incident notice delivery attempts made by this process, by channel and outcome (sent, retried, rejected).", "channel", "outcome");
        foreach (var channel in new[] { Incidents.NoticeChannel.Slack, Incidents.NoticeChannel.Teams, Incidents.NoticeChannel.PagerDuty, Incidents.NoticeChannel.Webhook })
        {
            foreach (var outcome in new[] { "sent", "retried", "rejected" })
            {
                Notices.WithLabels(channel, outcome); // every series exists from the start, at 0
            }
        }
    }

    public CollectorRegistry Registry { get; }

    public Gauge Workflows { get; }

    public Counter WorkflowErrors { get; }

    public Counter StepErrors { get; }

    public Gauge MaintenanceMode { get; }

    public Gauge DatabaseUp { get; }

    public Counter DatabaseReads { get; }

    public Counter SnapshotRefreshes { get; }

    public Gauge ReplicationLag { get; }

    public Gauge ReplicationLagBytes { get; }

    public Gauge ReplicasConnected { get; }

    public Gauge PoolConnections { get; }

    public Gauge PoolMaxConnections { get; }

    public Gauge PoolPendingRequests { get; }

    public Counter PoolTimeouts { get; }

    public Gauge CircuitBreakerState { get; }

    public Gauge IncidentsOpen { get; }

    public Histogram StepDuration { get; }

    public Counter LlmRequests { get; }

    public Counter LlmTokens { get; }

    public Counter LlmCost { get; }

    public Histogram LlmDuration { get; }

    public Counter Notices { get; }

    /// <summary>Records one LLM call: its outcome, duration, and on success its tokens and cost.</summary>
    public void RecordLlmCall(string provider, string model, string outcome, TimeSpan duration, int inputTokens, int outputTokens, decimal costUsd)
    {
        LlmRequests.WithLabels(provider, outcome).Inc();
        LlmDuration.WithLabels(provider).Observe(duration.TotalSeconds);
        if (inputTokens > 0)
        {
            LlmTokens.WithLabels(provider, model, "input").Inc(inputTokens);
        }

        if (outputTokens > 0)
        {
            LlmTokens.WithLabels(provider, model, "output").Inc(outputTokens);
        }

        if (costUsd > 0)
        {
            LlmCost.WithLabels(provider).Inc((double)costUsd);
        }
    }
}
