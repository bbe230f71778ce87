using Microsoft.Extensions.Logging;

namespace Orchestrator.Core;

/// <summary>Every log line of the product's core, by area: 1xxx workflows, 2xxx LLM, 3xxx persistence, 4xxx API.</summary>
internal static partial class Log
{
    private static readonly Func<ILogger, string, string, int, IDisposable?> StepScopeDefinition =
        LoggerMessage.DefineScope<string, string, int>("Run {RunId} step {StepId}[{Iteration}]");

    private static readonly Func<ILogger, string, IDisposable?> RunScopeDefinition = LoggerMessage.DefineScope<string>("Run {RunId}");

    /// <summary>Puts <c>RunId</c>, <c>StepId</c> and <c>Iteration</c> on every line logged inside it, by any category.</summary>
    public static IDisposable? StepScope(ILogger logger, string runId, string stepId, int iteration) => StepScopeDefinition(logger, runId, stepId, iteration);

    public static IDisposable? RunScope(ILogger logger, string runId) => RunScopeDefinition(logger, runId);

    [LoggerMessage(1000, LogLevel.Information, "Run {RunId} started: {Definition} (retry of {RetryOf})")]
    public static partial void RunStarted(ILogger logger, string runId, string definition, string? retryOf);

    [LoggerMessage(1001, LogLevel.Information, "Run {RunId} step {StepId}[{Iteration}] started on provider {Provider}")]
    public static partial void StepStarted(ILogger logger, string runId, string stepId, int iteration, string provider);

    [LoggerMessage(1002, LogLevel.Information, "Run {RunId} step {StepId}[{Iteration}] completed in {LatencyMs} ms")]
    public static partial void StepCompleted(ILogger logger, string runId, string stepId, int iteration, int latencyMs);

    [LoggerMessage(1003, LogLevel.Warning, "Run {RunId} step {StepId}[{Iteration}] failed: {Error}")]
    public static partial void StepFailed(ILogger logger, string runId, string stepId, int iteration, string error);

    [LoggerMessage(1004, LogLevel.Information, "Run {RunId} step {StepId}[{Iteration}] reused the result recorded by run {SourceRunId}; no call made")]
    public static partial void StepReused(ILogger logger, string runId, string stepId, int iteration, string sourceRunId);

    [LoggerMessage(1005, LogLevel.Information, "Run {RunId} finished as {Status} (recorded: {Changed})")]
    public static partial void RunFinished(ILogger logger, string runId, string status, bool changed);

    [LoggerMessage(1006, LogLevel.Information, "Run {RunId} cancelled: {Reason}")]
    public static partial void RunCancelled(ILogger logger, string runId, string reason);

    [LoggerMessage(1007, LogLevel.Information, "Loaded workflow definition {Definition} from {Path}")]
    public static partial void DefinitionLoaded(ILogger logger, string definition, string path);

    [LoggerMessage(1008, LogLevel.Warning, "Run {RunId} step {StepId}[{Iteration}]: reply did not match the output schema; repair {Repair}: {Problems}")]
    public static partial void StructuredOutputRepair(ILogger logger, string runId, string stepId, int iteration, int repair, string problems);

    [LoggerMessage(2000, LogLevel.Warning, "LLM provider {Provider} answered HTTP {Status}: {Message}")]
    public static partial void LlmCallFailed(ILogger logger, string provider, int status, string message);

    [LoggerMessage(2001, LogLevel.Warning, "No LLM endpoint is configured: using the SIMULATED provider. Step outputs are generated text, not model answers. Set OPENAI_BASE_URL / OPENAI_API_KEY (or Llm__Endpoint) to use a real model.")]
    public static partial void SimulatedProvider(ILogger logger);

    [LoggerMessage(2002, LogLevel.Information, "LLM provider {Provider} at {Endpoint}, default model {Model}")]
    public static partial void LlmProvider(ILogger logger, string provider, string endpoint, string model);

    [LoggerMessage(3000, LogLevel.Information, "Schema migration: {Message}")]
    public static partial void Migration(ILogger logger, string message);

    [LoggerMessage(3001, LogLevel.Error, "Schema migration: {Message}")]
    public static partial void MigrationError(ILogger logger, string message);

    [LoggerMessage(3002, LogLevel.Information, "Created database {Database}")]
    public static partial void DatabaseCreated(ILogger logger, string database);

    [LoggerMessage(4000, LogLevel.Warning, "Run {RunId} is marked Cancelled but its orchestration could not be terminated; its steps will refuse to run")]
    public static partial void TerminateFailed(ILogger logger, Exception exception, string runId);

    [LoggerMessage(4001, LogLevel.Error, "Run {RunId} was stored but its orchestration could not be scheduled; the run was removed")]
    public static partial void ScheduleFailed(ILogger logger, Exception exception, string runId);

    [LoggerMessage(4002, LogLevel.Warning, "Rejected a bearer token for {Method} {Path} from {RemoteAddress}")]
    public static partial void TokenRejected(ILogger logger, string method, string path, string? remoteAddress);

    [LoggerMessage(4003, LogLevel.Warning, "ADMIN ACTION {Action} on {Target} by {Actor} (changed: {Changed})")]
    public static partial void AdminAction(ILogger logger, string actor, string action, string target, bool changed);

    [LoggerMessage(4004, LogLevel.Information, "Circuit breaker {Breaker} closed by a reset (generation {Generation})")]
    public static partial void BreakerReset(ILogger logger, string breaker, long generation);

    [LoggerMessage(4005, LogLevel.Warning, "Cannot read the cluster-wide admin state from PostgreSQL ({Error}); keeping the last known state")]
    public static partial void ClusterStateUnavailable(ILogger logger, string error);

    [LoggerMessage(4006, LogLevel.Information, "The cluster-wide admin state is readable again")]
    public static partial void ClusterStateRecovered(ILogger logger);

    [LoggerMessage(4007, LogLevel.Warning, "Metrics: cannot read the cluster-wide figures from PostgreSQL ({Error}); serving the last known values")]
    public static partial void MetricsDatabaseUnavailable(ILogger logger, string error);

    [LoggerMessage(4008, LogLevel.Critical, "AUTHENTICATION IS SWITCHED OFF (Auth__Disabled=true): every loopback caller is an administrator. For local development only.")]
    public static partial void AuthDisabled(ILogger logger);

    [LoggerMessage(4009, LogLevel.Warning, "The Key Vault reference in setting {Key} did not resolve (no such secret, or no access to it), so the setting is treated as unset")]
    public static partial void UnresolvedSecretReference(ILogger logger, string key);

    [LoggerMessage(5001, LogLevel.Warning, "PostgreSQL is unavailable while {What} (attempt {Attempt}: {Error}); retrying with back-off for up to {Window}")]
    public static partial void DatabaseUnavailable(ILogger logger, string what, int attempt, string error, TimeSpan window);

    [LoggerMessage(5002, LogLevel.Information, "PostgreSQL is reachable again: {What} succeeded after {Attempts} attempts ({Elapsed})")]
    public static partial void DatabaseBack(ILogger logger, string what, int attempts, TimeSpan elapsed);

    [LoggerMessage(5003, LogLevel.Information, "Run {RunId} step {StepId}[{Iteration}]: recording the reply already paid for instead of calling the provider again")]
    public static partial void PaidResultRecorded(ILogger logger, string runId, string stepId, int iteration);

    [LoggerMessage(5004, LogLevel.Warning, "Run {RunId} step {StepId}[{Iteration}]: could not record the failure ({Error}); the orchestration decides what follows")]
    public static partial void StepFailureNotRecorded(ILogger logger, string runId, string stepId, int iteration, string error);

    [LoggerMessage(5101, LogLevel.Warning, "Run {RunId} is {Status} in PostgreSQL but its orchestration no longer exists; started it again from its recorded steps")]
    public static partial void RunResumed(ILogger logger, string runId, string status);

    [LoggerMessage(5102, LogLevel.Warning, "Run {RunId} was {Was} in PostgreSQL after its orchestration ended; recorded it as {Now}")]
    public static partial void RunRepaired(ILogger logger, string runId, string was, string now);

    [LoggerMessage(5103, LogLevel.Information, "Reconciler: {Checked} unfinished runs compared with their durable status, {Resumed} resumed, {Repaired} repaired")]
    public static partial void ReconcilePass(ILogger logger, int @checked, int resumed, int repaired);

    [LoggerMessage(5104, LogLevel.Warning, "Reconciler pass failed ({Error}: {Message}); the next pass tries again")]
    public static partial void ReconcileFailed(ILogger logger, string error, string message);

    [LoggerMessage(5105, LogLevel.Warning, "The database was restored (scripts/restore.sh, at {RestoredAt}); restarting its {Count} unfinished runs from their recorded steps")]
    public static partial void RestoreResync(ILogger logger, string restoredAt, int count);

    // 6000-6049: step leases and budget reservations.
    [LoggerMessage(6000, LogLevel.Information, "Run {RunId} step {StepId}[{Iteration}] is being run by {Holder}; waiting for its result instead of calling the LLM")]
    public static partial void StepHeldElsewhere(ILogger logger, string runId, string stepId, int iteration, string holder);

    [LoggerMessage(6001, LogLevel.Information, "Run {RunId} step {StepId}[{Iteration}] was completed by the execution it waited for; returning that result, no call made")]
    public static partial void StepCompletedElsewhere(ILogger logger, string runId, string stepId, int iteration);

    [LoggerMessage(6002, LogLevel.Warning, "Run {RunId} step {StepId}[{Iteration}]: the lease of {Holder} lapsed or its attempt ended; this execution claimed the step")]
    public static partial void StepTakenOver(ILogger logger, string runId, string stepId, int iteration, string holder);

    [LoggerMessage(6003, LogLevel.Warning, "Run {RunId} step {StepId}[{Iteration}]: its lease was taken over by another execution while the call ran; the first result recorded wins")]
    public static partial void StepLeaseLost(ILogger logger, string runId, string stepId, int iteration);

    [LoggerMessage(6004, LogLevel.Warning, "Run {RunId} step {StepId}[{Iteration}]: its lease could not be renewed: {Error}")]
    public static partial void StepLeaseNotRenewed(ILogger logger, string runId, string stepId, int iteration, string error);

    [LoggerMessage(6005, LogLevel.Information, "Run {RunId} step {StepId}[{Iteration}] waits for {Outstanding} reservation(s) of its run to settle: {Reason}")]
    public static partial void BudgetPending(ILogger logger, string runId, string stepId, int iteration, int outstanding, string reason);

    [LoggerMessage(6006, LogLevel.Warning, "Run {RunId} step {StepId}[{Iteration}] refused by its run's budget: {Reason}")]
    public static partial void BudgetExhausted(ILogger logger, string runId, string stepId, int iteration, string reason);

    [LoggerMessage(6007, LogLevel.Information, "Released {Count} step lease(s) held by earlier processes of instance {InstanceId}; their steps may be taken over at once")]
    public static partial void PredecessorLeasesReleased(ILogger logger, int count, string instanceId);

    [LoggerMessage(6008, LogLevel.Warning, "Could not release the step leases of earlier processes of instance {InstanceId}: {Error}; they lapse by themselves within {LeaseDuration}")]
    public static partial void PredecessorLeasesNotReleased(ILogger logger, string instanceId, string error, TimeSpan leaseDuration);

    // 6300-6349: LLM providers.
    [LoggerMessage(6300, LogLevel.Warning, "LLM provider {Provider} ({Model}) skipped for the next one of the chain: {Reason}")]
    public static partial void ProviderSkipped(ILogger logger, string provider, string model, string reason);

    // 61xx: cluster-wide LLM limits (Llm/Limits).
    [LoggerMessage(6100, LogLevel.Warning, "LLM {Limit} limit of provider {Provider} now counts on this instance only: PostgreSQL is unreachable ({Error}); the cluster-wide count resumes when it answers")]
    public static partial void LimitFallbackEntered(ILogger logger, string limit, string provider, string error);

    [LoggerMessage(6101, LogLevel.Information, "LLM {Limit} limit of provider {Provider} counts cluster-wide again: PostgreSQL answered after {Down}")]
    public static partial void LimitFallbackLeft(ILogger logger, string limit, string provider, TimeSpan down);

    [LoggerMessage(6102, LogLevel.Information, "Released {Count} LLM concurrency slots of provider {Provider} left by an earlier process of this instance")]
    public static partial void PredecessorSlotsReleased(ILogger logger, string provider, int count);

    [LoggerMessage(6103, LogLevel.Warning, "{Count} LLM concurrency slots of provider {Provider} expired before their renewal and may be held by another call now")]
    public static partial void SlotsLost(ILogger logger, string provider, int count);

    [LoggerMessage(6104, LogLevel.Debug, "LLM {Limit} limit of provider {Provider}: {What} failed ({Error}); the lease runs out on its own")]
    public static partial void LimitWriteFailed(ILogger logger, string limit, string provider, string what, string error);

    [LoggerMessage(6200, LogLevel.Warning, "Circuit breaker {Breaker} opened for every instance for {BreakDuration} by {Holder}: {Reason}")]
    public static partial void BreakerOpened(ILogger logger, string breaker, TimeSpan breakDuration, string holder, string reason);

    [LoggerMessage(6201, LogLevel.Warning, "Circuit breaker {Breaker} opened on this instance only for {BreakDuration} ({Reason})")]
    public static partial void BreakerOpenedLocally(ILogger logger, string breaker, TimeSpan breakDuration, string reason);

    [LoggerMessage(6202, LogLevel.Information, "Circuit breaker {Breaker}: this call is the half-open probe ({Probe})")]
    public static partial void BreakerProbeClaimed(ILogger logger, string breaker, string probe);

    [LoggerMessage(6203, LogLevel.Information, "Circuit breaker {Breaker}: the probe ended as {Outcome}; the breaker is {State}")]
    public static partial void BreakerProbeEnded(ILogger logger, string breaker, string outcome, string state);

    [LoggerMessage(6204, LogLevel.Information, "Circuit breaker {Breaker} is {State} cluster-wide (was {Was} here)")]
    public static partial void BreakerStateRead(ILogger logger, string breaker, string state, string was);

    [LoggerMessage(6205, LogLevel.Warning, "Circuit breakers: PostgreSQL does not answer ({Error}); each breaker runs on this instance's own counts until it does")]
    public static partial void BreakersLocal(ILogger logger, string error);

    [LoggerMessage(6206, LogLevel.Information, "Circuit breakers: PostgreSQL answers again; back to the cluster-wide state")]
    public static partial void BreakersShared(ILogger logger);

    [LoggerMessage(6207, LogLevel.Error, "Circuit breakers: the sync tick failed; the next one tries again")]
    public static partial void BreakerSyncFailed(ILogger logger, Exception exception);

    // 6500-6549 incidents (the engine)
    [LoggerMessage(6500, LogLevel.Warning, "Incident {IncidentId} opened ({DedupKey}, {Severity}): {Title}")]
    public static partial void IncidentOpened(ILogger logger, Guid incidentId, string dedupKey, string severity, string title);

    [LoggerMessage(6501, LogLevel.Information, "Incident {IncidentId} ({DedupKey}) resolved by {Actor} after {Duration}")]
    public static partial void IncidentResolved(ILogger logger, Guid incidentId, string dedupKey, string duration, string actor);

    [LoggerMessage(6502, LogLevel.Warning, "Incident {IncidentId} ({DedupKey}) escalated to L2: open {Duration} of a {Rto} RTO")]
    public static partial void IncidentEscalated(ILogger logger, Guid incidentId, string dedupKey, string duration, string rto);

    [LoggerMessage(6503, LogLevel.Information, "Incident {IncidentId} ({DedupKey}) update {Sequence} due")]
    public static partial void IncidentUpdateDue(ILogger logger, Guid incidentId, string dedupKey, int sequence);

    [LoggerMessage(6504, LogLevel.Information, "Incident {IncidentId} ({DedupKey}) acknowledged by {Actor}")]
    public static partial void IncidentAcknowledged(ILogger logger, Guid incidentId, string dedupKey, string actor);

    // 6450-6499 monitor scheduling
    [LoggerMessage(6450, LogLevel.Warning, "Monitor {Check}: the check could not look ({ErrorType}: {Error}); its conditions stay as they were")]
    public static partial void MonitorCheckFailed(ILogger logger, string check, string errorType, string error);

    [LoggerMessage(6451, LogLevel.Warning, "Monitor {Check}: its readings could not be recorded ({ErrorType}: {Error}); the next run tries again")]
    public static partial void MonitorApplyFailed(ILogger logger, string check, string errorType, string error);

    [LoggerMessage(6452, LogLevel.Information, "Monitor {Check}: this instance now runs it (holds its advisory lock)")]
    public static partial void MonitorLockTaken(ILogger logger, string check);

    [LoggerMessage(6453, LogLevel.Warning, "Monitors: the connection holding the checks' advisory locks was lost ({ErrorType}: {Error}); another instance may take them")]
    public static partial void MonitorLocksLost(ILogger logger, string errorType, string error);

    [LoggerMessage(6454, LogLevel.Information, "Monitors: {Count} checks scheduled on this instance, each run only while it holds the check's advisory lock")]
    public static partial void MonitorsScheduled(ILogger logger, int count);

    [LoggerMessage(6505, LogLevel.Warning, "Incident {IncidentId} opened while PostgreSQL is unreachable ({DedupKey}, {Severity}): {Title}; its notice goes out directly and it is recorded when the database answers")]
    public static partial void IncidentOpenedOffline(ILogger logger, Guid incidentId, string dedupKey, string severity, string title);

    // 66xx: the incident API (Api/IncidentHttpHandlers, Incidents/IncidentQueries).
    [LoggerMessage(6600, LogLevel.Information, "Incident {IncidentId}: {Action} by hand by {Actor}: {Outcome}")]
    public static partial void IncidentChangedByHand(ILogger logger, string actor, string action, Guid incidentId, string outcome);

    // 64xx: monitor checks (Monitoring/Checks).
    [LoggerMessage(6400, LogLevel.Warning, "Monitor check {Check}: {What} did not answer ({Error}); the conditions it could not look at keep their state")]
    public static partial void MonitorCheckCouldNotLook(ILogger logger, string check, string what, string error);

    // 6550-6599: incident notices (Incidents/Notices). Never a URL, key or secret: messages are redacted first.
    [LoggerMessage(6550, LogLevel.Information, "Notice {NoticeId} sent to {Channel} (attempt {Attempt})")]
    public static partial void NoticeSent(ILogger logger, long noticeId, string channel, int attempt);

    [LoggerMessage(6551, LogLevel.Warning, "Notice {NoticeId} to {Channel} not delivered (status {StatusCode}: {Error}); attempt {Attempt}, the next no sooner than {NextAttemptAt:o}; the channel's later notices wait for it")]
    public static partial void NoticeDeferred(ILogger logger, long noticeId, string channel, int? statusCode, string error, int attempt, DateTimeOffset nextAttemptAt);

    [LoggerMessage(6552, LogLevel.Error, "Notice {NoticeId} to {Channel} rejected by the receiver (status {StatusCode}: {Error}); it is not retried and the channel moves on to its next notice")]
    public static partial void NoticeRejected(ILogger logger, long noticeId, string channel, int? statusCode, string error);

    [LoggerMessage(6553, LogLevel.Warning, "Notice {NoticeId} to {Channel} ended as {Outcome} but could not be recorded ({Error}); its claim lapses within {Lease} and it is attempted again (a receiver may see it twice)")]
    public static partial void NoticeNotRecorded(ILogger logger, long noticeId, string channel, string outcome, string error, TimeSpan lease);

    [LoggerMessage(6554, LogLevel.Warning, "Notice {NoticeId} to {Channel} ended as {Outcome}, but its claim had lapsed and another sender holds it now; that sender records it")]
    public static partial void NoticeClaimLost(ILogger logger, long noticeId, string channel, string outcome);

    [LoggerMessage(6555, LogLevel.Error, "Notice pass failed ({ErrorType}: {Error}); notices wait in the ledger, the next pass in {PollInterval}")]
    public static partial void NoticePassFailed(ILogger logger, string errorType, string error, TimeSpan pollInterval);

    [LoggerMessage(6556, LogLevel.Warning, "Incident {IncidentId}: {Kind} notice sent directly to {Channel} (the database is away; it is recorded when it answers)")]
    public static partial void NoticeSentDirectly(ILogger logger, Guid incidentId, string kind, string channel);

    [LoggerMessage(6557, LogLevel.Warning, "Incident {IncidentId}: {Kind} notice not taken by {Channel} ({StatusCode}: {Error}); tried again at the next check")]
    public static partial void NoticeNotSentDirectly(ILogger logger, Guid incidentId, string kind, string channel, int? statusCode, string error);
}
