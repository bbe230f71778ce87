using System.Data.Common;
using Npgsql;
using NpgsqlTypes;

namespace Orchestrator.Core.Persistence;

/// <summary>
/// All SQL over <c>workflow_states</c> and <c>workflow_steps</c>. Every write an activity makes is idempotent:
/// a step is keyed by (run, step, iteration), and terminal states are never overwritten.
/// </summary>
public sealed class WorkflowStore(NpgsqlDataSource dataSource)
{
    private const string RunColumns =
        "id, definition_name, definition_version, definition::text, status, input::text, output::text, error, retry_of, idempotency_key, " +
        "tokens_in, tokens_out, cost_usd, created_at, updated_at, last_checkpoint, completed_at";

    private const string StepColumns =
        "run_id, step_id, iteration, attempt, step_type, status, output, tokens_in, tokens_out, cost_usd, provider, model, " +
        "latency_ms, started_at, completed_at, error, reused_from, wait_event, wait_until, skipped_providers::text";

    /// <summary>Inserts a Pending run; with an idempotency key already used, returns the existing run's id instead.</summary>
    public async Task<(string Id, bool Created)> InsertRunAsync(NewRun run, CancellationToken cancellationToken)
    {
        await using var command = dataSource.CreateCommand(
            """
            INSERT INTO workflow_states (id, definition_name, definition_version, definition, status, input, retry_of, idempotency_key, task_hub)
            VALUES (@id, @name, @version, @definition::jsonb, 'Pending', @input::jsonb, @retry_of, @key, @hub)
            ON CONFLICT (idempotency_key) DO NOTHING
            RETURNING id
            """);
        command.Parameters.AddWithValue("id", run.Id);
        command.Parameters.AddWithValue("name", run.DefinitionName);
        command.Parameters.AddWithValue("version", run.DefinitionVersion);
        command.Parameters.AddWithValue("definition", run.DefinitionJson);
        command.Parameters.AddWithValue("input", run.InputJson);
        command.Parameters.AddNullable("retry_of", NpgsqlDbType.Text, run.RetryOf);
        command.Parameters.AddNullable("key", NpgsqlDbType.Text, run.IdempotencyKey);
        command.Parameters.AddNullable("hub", NpgsqlDbType.Text, run.TaskHub);
        if (await command.ExecuteScalarAsync(cancellationToken) is string id)
        {
            return (id, true);
        }

        await using var existing = dataSource.CreateCommand("SELECT id FROM workflow_states WHERE idempotency_key = @key");
        existing.Parameters.AddWithValue("key", run.IdempotencyKey!);
        return ((string)(await existing.ExecuteScalarAsync(cancellationToken))!, false);
    }

    /// <summary>Removes a run that was stored but whose orchestration could not be scheduled.</summary>
    public async Task DeleteRunAsync(string id, CancellationToken cancellationToken)
    {
        await using var command = dataSource.CreateCommand("DELETE FROM workflow_states WHERE id = @id");
        command.Parameters.AddWithValue("id", id);
        await command.ExecuteNonQueryAsync(cancellationToken);
    }

    public async Task<WorkflowRunRecord?> GetRunAsync(string id, CancellationToken cancellationToken)
    {
        await using var command = dataSource.CreateCommand($"SELECT {RunColumns} FROM workflow_states WHERE id = @id");
        command.Parameters.AddWithValue("id", id);
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        return await reader.ReadAsync(cancellationToken) ? ReadRun(reader) : null;
    }

    public async Task<IReadOnlyList<WorkflowStepRecord>> GetStepsAsync(string runId, CancellationToken cancellationToken)
    {
        await using var command = dataSource.CreateCommand(
            $"SELECT {StepColumns} FROM workflow_steps WHERE run_id = @id ORDER BY id");
        command.Parameters.AddWithValue("id", runId);
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        var steps = new List<WorkflowStepRecord>();
        while (await reader.ReadAsync(cancellationToken))
        {
            steps.Add(ReadStep(reader));
        }

        return steps;
    }

    /// <summary>
    /// One page of runs, newest first, keyset-paginated on (created_at, id): a page never skips or repeats a run,
    /// however many runs are started meanwhile. Asks for one row more than the page to know whether another follows.
    /// </summary>
    public async Task<IReadOnlyList<RunListItem>> ListRunsAsync(RunListQuery query, CancellationToken cancellationToken)
    {
        await using var command = dataSource.CreateCommand(
            """
            SELECT s.id, s.definition_name, s.definition_version, s.status, s.error, s.retry_of,
                   (SELECT count(*) FROM workflow_steps t
                     WHERE t.run_id = s.id AND strpos(t.step_id, '.') = 0 AND t.status IN ('Completed', 'Skipped', 'TimedOut'))::int,
                   COALESCE(jsonb_array_length(s.definition->'steps'), 0),
                   s.tokens_in, s.tokens_out, s.cost_usd, s.created_at, s.updated_at, s.last_checkpoint, s.completed_at
              FROM workflow_states s
             WHERE (@statuses::text[] IS NULL OR s.status = ANY (@statuses))
               AND (@definition::text IS NULL OR s.definition_name = @definition)
               AND (@after::timestamptz IS NULL OR s.created_at >= @after)
               AND (@before::timestamptz IS NULL OR s.created_at < @before)
               AND (@cursor_at::timestamptz IS NULL OR (s.created_at, s.id) < (@cursor_at, @cursor_id))
             ORDER BY s.created_at DESC, s.id DESC
             LIMIT @limit
            """);
        command.Parameters.AddNullable("statuses", NpgsqlDbType.Array | NpgsqlDbType.Text, query.Statuses?.ToArray());
        command.Parameters.AddNullable("definition", NpgsqlDbType.Text, query.Definition);
        command.Parameters.AddNullable("after", NpgsqlDbType.TimestampTz, query.CreatedAfter?.UtcDateTime);
        command.Parameters.AddNullable("before", NpgsqlDbType.TimestampTz, query.CreatedBefore?.UtcDateTime);
        command.Parameters.AddNullable("cursor_at", NpgsqlDbType.TimestampTz, query.After?.CreatedAt.UtcDateTime);
        command.Parameters.AddNullable("cursor_id", NpgsqlDbType.Text, query.After?.Id);
        command.Parameters.AddWithValue("limit", query.Limit + 1);
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        var items = new List<RunListItem>();
        while (await reader.ReadAsync(cancellationToken))
        {
            items.Add(new RunListItem(
                reader.GetString(0), reader.GetString(1), reader.GetInt32(2), reader.GetString(3),
                reader.IsDBNull(4) ? null : reader.GetString(4), reader.IsDBNull(5) ? null : reader.GetString(5),
                reader.GetInt32(6), reader.GetInt32(7), reader.GetInt64(8), reader.GetInt64(9), reader.GetDecimal(10),
                reader.GetFieldValue<DateTimeOffset>(11), reader.GetFieldValue<DateTimeOffset>(12),
                reader.IsDBNull(13) ? null : reader.GetFieldValue<DateTimeOffset>(13), reader.IsDBNull(14) ? null : reader.GetFieldValue<DateTimeOffset>(14)));
        }

        return items;
    }

    /// <summary>Ids of the runs started as retries of <paramref name="runId"/>.</summary>
    public async Task<IReadOnlyList<string>> GetRetriesAsync(string runId, CancellationToken cancellationToken)
    {
        await using var command = dataSource.CreateCommand("SELECT id FROM workflow_states WHERE retry_of = @id ORDER BY created_at");
        command.Parameters.AddWithValue("id", runId);
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        var ids = new List<string>();
        while (await reader.ReadAsync(cancellationToken))
        {
            ids.Add(reader.GetString(0));
        }

        return ids;
    }

    /// <summary>
    /// Claims a step for one execution: marks it Running (attempt + 1 when it ran before) under a lease for
    /// <see cref="StepClaimRequest.Holder"/> and stores the call's budget reservation, unless it already completed,
    /// its run is over, another execution holds a live lease on it, or the run's budget does not fit the call (then
    /// nothing changes). Also moves the run from Pending to Running. The run row is locked for the whole decision, so
    /// two claims of one run (the same step twice, or a map's items at once) are decided one after the other.
    /// </summary>
    public async Task<StepClaim> ClaimStepAsync(StepClaimRequest claim, CancellationToken cancellationToken)
    {
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken);

        long tokensSpent;
        decimal costSpent;
        await using (var run = new NpgsqlCommand(
            $"SELECT CASE WHEN {RestoreFence.Matches} THEN status ELSE '{RestoreFence.Superseded}' END, tokens_in + tokens_out, cost_usd FROM workflow_states WHERE id = @id FOR UPDATE",
            connection, transaction))
        {
            run.Parameters.AddWithValue("id", claim.RunId);
            run.Parameters.AddNullable("epoch", NpgsqlDbType.Text, claim.RestoreEpoch);
            string? status = null;
            (tokensSpent, costSpent) = (0, 0m);
            await using (var reader = await run.ExecuteReaderAsync(cancellationToken))
            {
                if (await reader.ReadAsync(cancellationToken))
                {
                    (status, tokensSpent, costSpent) = (reader.GetString(0), reader.GetInt64(1), reader.GetDecimal(2));
                }
            }

            if (status is null or Workflows.RunStatus.Cancelled or Workflows.RunStatus.Completed or Workflows.RunStatus.Failed or RestoreFence.Superseded)
            {
                await transaction.CommitAsync(cancellationToken);
                return new StepClaim(StepClaimKind.RunFinished, null, status);
            }
        }

        await using (var current = new NpgsqlCommand(
            """
            SELECT status, lease_holder, lease_expires_at > now()
              FROM workflow_steps
             WHERE run_id = @run AND step_id = @step AND iteration = @iteration
               FOR UPDATE
            """, connection, transaction))
        {
            current.Parameters.AddStepKey(claim.RunId, claim.StepId, claim.Iteration);
            string? status = null, holder = null;
            var live = false;
            await using (var reader = await current.ExecuteReaderAsync(cancellationToken))
            {
                if (await reader.ReadAsync(cancellationToken))
                {
                    (status, holder, live) = (reader.GetString(0), reader.IsDBNull(1) ? null : reader.GetString(1), !reader.IsDBNull(2) && reader.GetBoolean(2));
                }
            }

            if (status is Workflows.StepStatus.Completed or Workflows.StepStatus.Skipped)
            {
                var completed = await ReadStepAsync(connection, transaction, claim.RunId, claim.StepId, claim.Iteration, cancellationToken);
                await transaction.CommitAsync(cancellationToken);
                return new StepClaim(StepClaimKind.AlreadyCompleted, completed, null);
            }

            if (status == Workflows.StepStatus.Running && live && holder is not null && !string.Equals(holder, claim.Holder, StringComparison.Ordinal))
            {
                await transaction.CommitAsync(cancellationToken);
                return new StepClaim(StepClaimKind.HeldElsewhere, null, null, holder);
            }
        }

        if (claim.MaxTokens is not null || claim.MaxCostUsd is not null)
        {
            var standing = await BudgetStandingAsync(connection, transaction, claim, tokensSpent, costSpent, cancellationToken);
            if (standing.Exceeded)
            {
                await transaction.CommitAsync(cancellationToken);
                return new StepClaim(standing.OutstandingReservations > 0 ? StepClaimKind.BudgetPending : StepClaimKind.BudgetExhausted, null, null, null, standing);
            }
        }

        await using (var upsert = new NpgsqlCommand(
            """
            INSERT INTO workflow_steps (run_id, step_id, iteration, attempt, step_type, status, started_at,
                                        lease_holder, lease_expires_at, reserved_tokens, reserved_cost_usd)
            VALUES (@run, @step, @iteration, 1, @type, 'Running', now(), @holder, now() + @lease, @reserved_tokens, @reserved_cost)
            ON CONFLICT (run_id, step_id, iteration) DO UPDATE
               SET attempt = workflow_steps.attempt + 1, status = 'Running', started_at = now(), error = NULL,
                   lease_holder = EXCLUDED.lease_holder, lease_expires_at = EXCLUDED.lease_expires_at,
                   reserved_tokens = EXCLUDED.reserved_tokens, reserved_cost_usd = EXCLUDED.reserved_cost_usd
             WHERE workflow_steps.status NOT IN ('Completed', 'Skipped')
            """, connection, transaction))
        {
            upsert.Parameters.AddStepKey(claim.RunId, claim.StepId, claim.Iteration);
            upsert.Parameters.AddWithValue("type", claim.StepType);
            upsert.Parameters.AddWithValue("holder", claim.Holder);
            upsert.Parameters.AddWithValue("lease", claim.LeaseDuration);
            upsert.Parameters.AddWithValue("reserved_tokens", claim.ReservedTokens);
            upsert.Parameters.AddWithValue("reserved_cost", claim.ReservedCostUsd);
            await upsert.ExecuteNonQueryAsync(cancellationToken);
        }

        await using (var running = new NpgsqlCommand(
            "UPDATE workflow_states SET status = 'Running', updated_at = now() WHERE id = @id AND status = 'Pending'", connection, transaction))
        {
            running.Parameters.AddWithValue("id", claim.RunId);
            await running.ExecuteNonQueryAsync(cancellationToken);
        }

        await transaction.CommitAsync(cancellationToken);
        return new StepClaim(StepClaimKind.Claimed, null, Workflows.RunStatus.Running);
    }

    /// <summary>
    /// The run's budget as this claim sees it (inside the claim's transaction, the run row locked). Spent is the run's
    /// own totals: <see cref="CompleteStepAsync"/> and <see cref="FailStepAsync"/> add what this run paid for, while
    /// <see cref="CopyCompletedStepsAsync"/> copies reused steps without adding them, as the interpreter does not count
    /// them either. Reserved is what the run's other steps that are Running under a live lease may still spend.
    /// </summary>
    private static async Task<BudgetStanding> BudgetStandingAsync(
        NpgsqlConnection connection, NpgsqlTransaction transaction, StepClaimRequest claim, long tokensSpent, decimal costSpent, CancellationToken cancellationToken)
    {
        await using var reserved = new NpgsqlCommand(
            """
            SELECT COALESCE(sum(reserved_tokens), 0)::bigint, COALESCE(sum(reserved_cost_usd), 0), count(*)::int
              FROM workflow_steps
             WHERE run_id = @run AND status = 'Running' AND lease_expires_at > now()
               AND (reserved_tokens > 0 OR reserved_cost_usd > 0)
               AND NOT (step_id = @step AND iteration = @iteration)
            """, connection, transaction);
        reserved.Parameters.AddStepKey(claim.RunId, claim.StepId, claim.Iteration);
        await using var reader = await reserved.ExecuteReaderAsync(cancellationToken);
        await reader.ReadAsync(cancellationToken);
        return new BudgetStanding(
            tokensSpent, reader.GetInt64(0), claim.ReservedTokens, claim.MaxTokens,
            costSpent, reader.GetDecimal(1), claim.ReservedCostUsd, claim.MaxCostUsd,
            reader.GetInt32(2));
    }

    /// <summary>
    /// Extends <paramref name="holder"/>'s lease on a Running step by <paramref name="leaseDuration"/> (database clock).
    /// False when the lease is no longer its own: taken over after it lapsed, or the step already finished.
    /// </summary>
    public async Task<bool> RenewStepLeaseAsync(string runId, string stepId, int iteration, string holder, TimeSpan leaseDuration, CancellationToken cancellationToken)
    {
        await using var command = dataSource.CreateCommand(
            """
            UPDATE workflow_steps SET lease_expires_at = now() + @lease
             WHERE run_id = @run AND step_id = @step AND iteration = @iteration AND status = 'Running' AND lease_holder = @holder
            """);
        command.Parameters.AddStepKey(runId, stepId, iteration);
        command.Parameters.AddWithValue("holder", holder);
        command.Parameters.AddWithValue("lease", leaseDuration);
        return await command.ExecuteNonQueryAsync(cancellationToken) == 1;
    }

    /// <summary>
    /// Lets the leases that earlier processes of instance <paramref name="instanceId"/> held lapse now (their holder
    /// starts with <c>{instanceId}/</c> but not with this process's <paramref name="holder"/>): a restarted instance
    /// takes its own interrupted steps back at once instead of after the lease. Idempotent; returns how many lapsed.
    /// </summary>
    public async Task<int> ReleasePredecessorLeasesAsync(string instanceId, string holder, CancellationToken cancellationToken)
    {
        await using var command = dataSource.CreateCommand(
            """
            UPDATE workflow_steps SET lease_expires_at = now()
             WHERE lease_holder IS NOT NULL AND lease_expires_at > now()
               AND starts_with(lease_holder, @instance) AND NOT starts_with(lease_holder, @holder)
            """);
        command.Parameters.AddWithValue("instance", instanceId + "/");
        command.Parameters.AddWithValue("holder", holder + "/");
        return await command.ExecuteNonQueryAsync(cancellationToken);
    }

    /// <summary>
    /// Records that the run's budget refused a step before its call: the step is Failed with <paramref name="error"/>,
    /// no attempt is counted (a new row has attempt 0) and nothing is added to the run's totals.
    /// </summary>
    public async Task RefuseStepAsync(string runId, string stepId, int iteration, string stepType, string error, CancellationToken cancellationToken)
    {
        await using var command = dataSource.CreateCommand(
            """
            INSERT INTO workflow_steps (run_id, step_id, iteration, attempt, step_type, status, error, completed_at)
            VALUES (@run, @step, @iteration, 0, @type, 'Failed', @error, now())
            ON CONFLICT (run_id, step_id, iteration) DO UPDATE
               SET status = 'Failed', error = EXCLUDED.error, completed_at = now(),
                   lease_holder = NULL, lease_expires_at = NULL, reserved_tokens = 0, reserved_cost_usd = 0
             WHERE workflow_steps.status NOT IN ('Completed', 'Skipped')
               AND (workflow_steps.status <> 'Running' OR workflow_steps.lease_expires_at IS NULL OR workflow_steps.lease_expires_at <= now())
            """);
        command.Parameters.AddStepKey(runId, stepId, iteration);
        command.Parameters.AddWithValue("type", stepType);
        command.Parameters.AddWithValue("error", error);
        await command.ExecuteNonQueryAsync(cancellationToken);
    }

    /// <summary>
    /// Records a step's result once (the first writer wins, whichever execution it is); the run's totals and
    /// checkpoint move only on that first completion. Clears the lease and the budget reservation.
    /// </summary>
    public async Task CompleteStepAsync(StepCompletion completion, CancellationToken cancellationToken)
    {
        await using var command = dataSource.CreateCommand(
            """
            WITH done AS (
                UPDATE workflow_steps
                   SET status = @status, output = @output, tokens_in = @tin, tokens_out = @tout, cost_usd = @cost,
                       provider = @provider, model = @model, latency_ms = @latency, completed_at = now(), error = NULL,
                       skipped_providers = @skipped::jsonb,
                       started_at = COALESCE(started_at, now()),
                       lease_holder = NULL, lease_expires_at = NULL, reserved_tokens = 0, reserved_cost_usd = 0
                 WHERE run_id = @run AND step_id = @step AND iteration = @iteration AND status NOT IN ('Completed', 'Skipped')
                RETURNING tokens_in, tokens_out, cost_usd)
            UPDATE workflow_states s
               SET tokens_in = s.tokens_in + done.tokens_in, tokens_out = s.tokens_out + done.tokens_out,
                   cost_usd = s.cost_usd + done.cost_usd, last_checkpoint = now(), updated_at = now()
              FROM done
             WHERE s.id = @run
            """);
        command.Parameters.AddWithValue("status", completion.Status);
        command.Parameters.AddNullable("output", NpgsqlDbType.Text, completion.Output);
        command.Parameters.AddWithValue("tin", completion.TokensIn);
        command.Parameters.AddWithValue("tout", completion.TokensOut);
        command.Parameters.AddWithValue("cost", completion.CostUsd);
        command.Parameters.AddNullable("provider", NpgsqlDbType.Text, completion.Provider);
        command.Parameters.AddNullable("model", NpgsqlDbType.Text, completion.Model);
        command.Parameters.AddNullable("latency", NpgsqlDbType.Integer, completion.LatencyMs);
        command.Parameters.AddNullable("skipped", NpgsqlDbType.Text, completion.SkippedProvidersJson);
        command.Parameters.AddStepKey(completion.RunId, completion.StepId, completion.Iteration);
        await command.ExecuteNonQueryAsync(cancellationToken);
    }

    /// <summary>
    /// Records a failed attempt (only a row that has not completed changes). Tokens the attempt paid for (rejected
    /// structured replies) are added to the step and to the run's totals. Clears the lease and the reservation. With a
    /// <paramref name="holder"/>, an execution whose lapsed lease another execution has taken over (and still holds)
    /// changes nothing: the step is that other execution's now.
    /// </summary>
    public async Task FailStepAsync(string runId, string stepId, int iteration, string error, string? provider, int? latencyMs, Llm.LlmCompletion? spent, CancellationToken cancellationToken, string? holder = null)
    {
        await using var command = dataSource.CreateCommand(
            """
            WITH failed AS (
                UPDATE workflow_steps SET status = 'Failed', error = @error, failed_attempts = failed_attempts + 1, provider = COALESCE(@provider, provider),
                       latency_ms = @latency, completed_at = now(),
                       tokens_in = tokens_in + @tin, tokens_out = tokens_out + @tout, cost_usd = cost_usd + @cost,
                       lease_holder = NULL, lease_expires_at = NULL, reserved_tokens = 0, reserved_cost_usd = 0
                 WHERE run_id = @run AND step_id = @step AND iteration = @iteration AND status NOT IN ('Completed', 'Skipped')
                   AND (@holder::text IS NULL OR lease_holder IS NULL OR lease_holder = @holder OR lease_expires_at <= now())
                RETURNING 1)
            UPDATE workflow_states s
               SET tokens_in = s.tokens_in + @tin, tokens_out = s.tokens_out + @tout, cost_usd = s.cost_usd + @cost, updated_at = now()
              FROM failed
             WHERE s.id = @run
            """);
        command.Parameters.AddNullable("holder", NpgsqlDbType.Text, holder);
        command.Parameters.AddWithValue("error", error);
        command.Parameters.AddNullable("provider", NpgsqlDbType.Text, provider);
        command.Parameters.AddNullable("latency", NpgsqlDbType.Integer, latencyMs);
        command.Parameters.AddWithValue("tin", spent?.InputTokens ?? 0);
        command.Parameters.AddWithValue("tout", spent?.OutputTokens ?? 0);
        command.Parameters.AddWithValue("cost", spent?.CostUsd ?? 0m);
        command.Parameters.AddStepKey(runId, stepId, iteration);
        await command.ExecuteNonQueryAsync(cancellationToken);
    }

    /// <summary>Moves a run to a terminal state unless it is already in one (a cancel is never overwritten).</summary>
    /// <remarks>With a <paramref name="fence"/> (the run's own orchestration) nothing changes after a restore the orchestration predates.</remarks>
    public async Task<bool> FinishRunAsync(string id, string status, string? outputJson, string? error, CancellationToken cancellationToken, RestoreFence? fence = null)
    {
        await using var command = dataSource.CreateCommand(
            $"""
            UPDATE workflow_states
               SET status = @status, output = @output::jsonb, error = @error, completed_at = now(), updated_at = now(),
                   last_checkpoint = now()
             WHERE id = @id AND status NOT IN ('Completed', 'Failed', 'Cancelled'){(fence is null ? "" : " AND " + RestoreFence.Matches)}
            """);
        command.Parameters.AddNullable("epoch", NpgsqlDbType.Text, fence?.RestoreEpoch);
        command.Parameters.AddWithValue("status", status);
        command.Parameters.AddNullable("output", NpgsqlDbType.Text, outputJson);
        command.Parameters.AddNullable("error", NpgsqlDbType.Text, error);
        command.Parameters.AddWithValue("id", id);
        return await command.ExecuteNonQueryAsync(cancellationToken) == 1;
    }

    /// <summary>Cancels a run that has not finished; returns the status it had (null when unknown).</summary>
    public async Task<(bool Cancelled, string? PreviousStatus)> CancelRunAsync(string id, string reason, CancellationToken cancellationToken)
    {
        await using var command = dataSource.CreateCommand(
            """
            WITH before AS (SELECT status FROM workflow_states WHERE id = @id FOR UPDATE),
                 changed AS (
                   UPDATE workflow_states SET status = 'Cancelled', error = @reason, completed_at = now(), updated_at = now()
                    WHERE id = @id AND status IN ('Pending', 'Running')
                   RETURNING 1)
            SELECT (SELECT status FROM before), EXISTS (SELECT 1 FROM changed)
            """);
        command.Parameters.AddWithValue("id", id);
        command.Parameters.AddWithValue("reason", reason);
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        await reader.ReadAsync(cancellationToken);
        var previous = reader.IsDBNull(0) ? null : reader.GetString(0);
        return (reader.GetBoolean(1), previous);
    }

    /// <summary>Copies the completed steps of <paramref name="fromRun"/> into a retry run, so they are not paid for again.</summary>
    public async Task<int> CopyCompletedStepsAsync(string fromRun, string toRun, CancellationToken cancellationToken)
    {
        await using var command = dataSource.CreateCommand(
            """
            INSERT INTO workflow_steps (run_id, step_id, iteration, attempt, step_type, status, output, tokens_in, tokens_out,
                                        cost_usd, provider, model, latency_ms, started_at, completed_at, reused_from)
            SELECT @to, step_id, iteration, attempt, step_type, status, output, tokens_in, tokens_out,
                   cost_usd, provider, model, latency_ms, started_at, completed_at, COALESCE(reused_from, @from)
              FROM workflow_steps
             WHERE run_id = @from AND status = 'Completed' AND step_type <> 'map'
            ON CONFLICT (run_id, step_id, iteration) DO NOTHING
            """);
        command.Parameters.AddWithValue("from", fromRun);
        command.Parameters.AddWithValue("to", toRun);
        return await command.ExecuteNonQueryAsync(cancellationToken);
    }

    /// <summary>
    /// Records a step that calls no LLM. A finished row (Completed, Skipped, TimedOut) is never overwritten: the
    /// existing result is returned instead, so a replayed or retried run sees the same value.
    /// </summary>
    public async Task<Workflows.RecordStepResult> RecordStepAsync(Workflows.RecordStepRequest step, CancellationToken cancellationToken)
    {
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
        await using (var fence = new NpgsqlCommand($"SELECT {RestoreFence.Matches}", connection, transaction))
        {
            fence.Parameters.AddNullable("epoch", NpgsqlDbType.Text, step.RestoreEpoch);
            if (await fence.ExecuteScalarAsync(cancellationToken) is false)
            {
                throw new Workflows.RunNotActiveException($"run {step.RunId} was restarted after a database restore; this orchestration is superseded");
            }
        }

        Workflows.RecordStepResult result;
        await using (var upsert = new NpgsqlCommand(
            """
            INSERT INTO workflow_steps (run_id, step_id, iteration, attempt, step_type, status, output, error, wait_event, wait_until, started_at, completed_at)
            VALUES (@run, @step, @iteration, 1, @type, @status, @output, @error, @event, @until, now(),
                    CASE WHEN @status IN ('Completed', 'Skipped', 'TimedOut', 'Failed') THEN now() END)
            ON CONFLICT (run_id, step_id, iteration) DO UPDATE
               SET status = EXCLUDED.status, output = EXCLUDED.output, error = EXCLUDED.error,
                   wait_event = COALESCE(EXCLUDED.wait_event, workflow_steps.wait_event),
                   wait_until = COALESCE(EXCLUDED.wait_until, workflow_steps.wait_until),
                   completed_at = EXCLUDED.completed_at
             WHERE workflow_steps.status NOT IN ('Completed', 'Skipped', 'TimedOut')
            RETURNING status, output
            """, connection, transaction))
        {
            upsert.Parameters.AddStepKey(step.RunId, step.StepId, step.Iteration);
            upsert.Parameters.AddWithValue("type", step.StepType);
            upsert.Parameters.AddWithValue("status", step.Status);
            upsert.Parameters.AddNullable("output", NpgsqlDbType.Text, step.OutputJson);
            upsert.Parameters.AddNullable("error", NpgsqlDbType.Text, step.Error);
            upsert.Parameters.AddNullable("event", NpgsqlDbType.Text, step.WaitEvent);
            upsert.Parameters.AddNullable("until", NpgsqlDbType.TimestampTz, step.WaitUntil is { } until ? DateTime.SpecifyKind(until, DateTimeKind.Utc) : null);
            await using var reader = await upsert.ExecuteReaderAsync(cancellationToken);
            result = await reader.ReadAsync(cancellationToken)
                ? new Workflows.RecordStepResult(reader.GetString(0), reader.IsDBNull(1) ? null : reader.GetString(1), false)
                : null!;
        }

        if (result is null)
        {
            var kept = await ReadStepAsync(connection, transaction, step.RunId, step.StepId, step.Iteration, cancellationToken);
            result = new Workflows.RecordStepResult(kept.Status, kept.Output, true);
        }

        await using (var touch = new NpgsqlCommand(
            """
            UPDATE workflow_states
               SET status = CASE WHEN status = 'Pending' THEN 'Running' ELSE status END, last_checkpoint = now(), updated_at = now()
             WHERE id = @id AND status IN ('Pending', 'Running')
            """, connection, transaction))
        {
            touch.Parameters.AddWithValue("id", step.RunId);
            await touch.ExecuteNonQueryAsync(cancellationToken);
        }

        await transaction.CommitAsync(cancellationToken);
        return result;
    }

    private static async Task<WorkflowStepRecord> ReadStepAsync(
        NpgsqlConnection connection, NpgsqlTransaction transaction, string runId, string stepId, int iteration, CancellationToken cancellationToken)
    {
        await using var read = new NpgsqlCommand(
            $"SELECT {StepColumns} FROM workflow_steps WHERE run_id = @run AND step_id = @step AND iteration = @iteration", connection, transaction);
        read.Parameters.AddStepKey(runId, stepId, iteration);
        await using var reader = await read.ExecuteReaderAsync(cancellationToken);
        await reader.ReadAsync(cancellationToken);
        return ReadStep(reader);
    }

    private static WorkflowRunRecord ReadRun(DbDataReader r) => new(
        r.GetString(0), r.GetString(1), r.GetInt32(2), r.GetString(3), r.GetString(4), r.GetString(5),
        r.IsDBNull(6) ? null : r.GetString(6), r.IsDBNull(7) ? null : r.GetString(7), r.IsDBNull(8) ? null : r.GetString(8),
        r.IsDBNull(9) ? null : r.GetString(9), r.GetInt64(10), r.GetInt64(11), r.GetDecimal(12),
        r.GetFieldValue<DateTimeOffset>(13), r.GetFieldValue<DateTimeOffset>(14),
        r.IsDBNull(15) ? null : r.GetFieldValue<DateTimeOffset>(15), r.IsDBNull(16) ? null : r.GetFieldValue<DateTimeOffset>(16));

    private static WorkflowStepRecord ReadStep(DbDataReader r) => new(
        r.GetString(0), r.GetString(1), r.GetInt32(2), r.GetInt32(3), r.GetString(4), r.GetString(5),
        r.IsDBNull(6) ? null : r.GetString(6), r.GetInt32(7), r.GetInt32(8), r.GetDecimal(9),
        r.IsDBNull(10) ? null : r.GetString(10), r.IsDBNull(11) ? null : r.GetString(11), r.IsDBNull(12) ? null : r.GetInt32(12),
        r.IsDBNull(13) ? null : r.GetFieldValue<DateTimeOffset>(13), r.IsDBNull(14) ? null : r.GetFieldValue<DateTimeOffset>(14),
        r.IsDBNull(15) ? null : r.GetString(15), r.IsDBNull(16) ? null : r.GetString(16),
        r.IsDBNull(17) ? null : r.GetString(17), r.IsDBNull(18) ? null : r.GetFieldValue<DateTimeOffset>(18),
        r.IsDBNull(19) ? null : r.GetString(19));

    /// <summary>
    /// Takes up to <paramref name="limit"/> unfinished runs of <paramref name="taskHub"/> older than
    /// <paramref name="minimumAge"/>, least recently reconciled first, and marks them reconciled now. Rows another
    /// reconciler holds are skipped, so any number of instances may reconcile at once without visiting a run twice.
    /// </summary>
    public async Task<IReadOnlyList<UnfinishedRun>> TakeUnfinishedRunsAsync(string taskHub, TimeSpan minimumAge, int limit, CancellationToken cancellationToken)
    {
        await using var command = dataSource.CreateCommand(
            """
            UPDATE workflow_states s SET reconciled_at = now()
              FROM (SELECT id FROM workflow_states
                     WHERE task_hub = @hub AND status IN ('Pending', 'Running') AND created_at < now() - @age
                     ORDER BY reconciled_at NULLS FIRST, created_at
                     LIMIT @limit
                       FOR UPDATE SKIP LOCKED) picked
             WHERE s.id = picked.id
            RETURNING s.id, s.status, s.definition::text, s.input::text, s.retry_of
            """);
        command.Parameters.AddWithValue("hub", taskHub);
        command.Parameters.AddWithValue("age", minimumAge);
        command.Parameters.AddWithValue("limit", limit);
        return await ReadUnfinishedAsync(command, cancellationToken);
    }

    /// <summary>Every unfinished run of <paramref name="taskHub"/> (after a database restore all of them are looked at).</summary>
    public async Task<IReadOnlyList<UnfinishedRun>> ListUnfinishedRunsAsync(string taskHub, CancellationToken cancellationToken)
    {
        await using var command = dataSource.CreateCommand(
            """
            SELECT id, status, definition::text, input::text, retry_of FROM workflow_states
             WHERE task_hub = @hub AND status IN ('Pending', 'Running')
             ORDER BY created_at
            """);
        command.Parameters.AddWithValue("hub", taskHub);
        return await ReadUnfinishedAsync(command, cancellationToken);
    }

    /// <summary>The restore the database last went through (<c>scripts/restore.sh</c>), or null: what a run started now carries.</summary>
    public async Task<string?> GetRestoreEpochAsync(CancellationToken cancellationToken)
    {
        await using var command = dataSource.CreateCommand("SELECT value->>'at' FROM settings WHERE key = 'database_restored'");
        return await command.ExecuteScalarAsync(cancellationToken) as string;
    }

    /// <summary>Reads rows of (id, status, definition, input, retry_of).</summary>
    private static async Task<IReadOnlyList<UnfinishedRun>> ReadUnfinishedAsync(NpgsqlCommand command, CancellationToken cancellationToken)
    {
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        var runs = new List<UnfinishedRun>();
        while (await reader.ReadAsync(cancellationToken))
        {
            runs.Add(new UnfinishedRun(reader.GetString(0), reader.GetString(1), reader.GetString(2), reader.GetString(3), reader.IsDBNull(4) ? null : reader.GetString(4)));
        }

        return runs;
    }
}
