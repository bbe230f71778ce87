using Npgsql;
using NpgsqlTypes;
using Polly.CircuitBreaker;

namespace Orchestrator.Core.Llm.Breakers;

/// <summary>
/// All SQL over <c>circuit_breakers</c> (the shared state and the probe claim) and <c>circuit_breaker_samples</c>.
/// Every state change is one conditional <c>UPDATE</c> batched with a read of the row, so the caller learns the
/// outcome and the database clock in one round trip.
/// </summary>
public sealed class CircuitBreakerStore(NpgsqlDataSource dataSource)
{
    private const string Columns = "name, state, epoch, open_until, probe_holder, probe_expires_at, reset_generation, updated_at, now()";

    private const string ReadOne = $"SELECT {Columns} FROM circuit_breakers WHERE name = $1";

    /// <summary>
    /// The sync tick, one round trip for all breakers: lists them, adds this instance's deltas to its own bucket (only
    /// for the epoch they were counted in), deletes samples no longer counted, and reads every breaker's state with its
    /// sample sums over its sampling window.
    /// </summary>
    internal async Task<IReadOnlyList<BreakerRow>> SyncAsync(string holder, IReadOnlyList<BreakerDelta> deltas, CancellationToken cancellationToken)
    {
        var names = deltas.Select(d => d.Name).ToArray();
        await using var batch = dataSource.CreateBatch();
        batch.BatchCommands.Add(Command(
            "INSERT INTO circuit_breakers (name) SELECT unnest($1::text[]) ON CONFLICT (name) DO NOTHING",
            Text(names)));
        batch.BatchCommands.Add(Command(
            """
            INSERT INTO circuit_breaker_samples (name, epoch, holder, bucket_start, successes, failures)
            SELECT b.name, b.epoch, $1, date_trunc('second', now()), d.successes, d.failures
              FROM unnest($2::text[], $3::bigint[], $4::bigint[], $5::bigint[]) AS d (name, epoch, successes, failures)
              JOIN circuit_breakers b ON b.name = d.name AND (d.epoch = -1 OR b.epoch = d.epoch)
             WHERE d.successes + d.failures > 0
            ON CONFLICT (name, epoch, holder, bucket_start) DO UPDATE
               SET successes = circuit_breaker_samples.successes + EXCLUDED.successes,
                   failures = circuit_breaker_samples.failures + EXCLUDED.failures
            """,
            new NpgsqlParameter { Value = holder },
            Text(names),
            Bigints(deltas.Select(d => d.Epoch)),
            Bigints(deltas.Select(d => d.Successes)),
            Bigints(deltas.Select(d => d.Failures))));
        // Samples of an earlier epoch, or older than the longest sampling window allowed, are no longer counted. Rows
        // another instance is writing are skipped (it deletes them itself, or a later tick does): no lock waits.
        batch.BatchCommands.Add(Command(
            """
            DELETE FROM circuit_breaker_samples WHERE ctid IN (
                SELECT s.ctid FROM circuit_breaker_samples s JOIN circuit_breakers b ON b.name = s.name
                 WHERE s.epoch < b.epoch OR s.bucket_start < now() - interval '1 hour'
                   FOR UPDATE OF s SKIP LOCKED)
            """));
        batch.BatchCommands.Add(Command(
            $"""
            SELECT b.name, b.state, b.epoch, b.open_until, b.probe_holder, b.probe_expires_at, b.reset_generation, b.updated_at, now(),
                   coalesce(sum(s.successes), 0)::bigint, coalesce(sum(s.failures), 0)::bigint
              FROM unnest($1::text[], $2::interval[]) AS l (name, sampling)
              JOIN circuit_breakers b ON b.name = l.name
              LEFT JOIN circuit_breaker_samples s ON s.name = b.name AND s.epoch = b.epoch AND s.bucket_start > now() - l.sampling
             GROUP BY b.name, b.state, b.epoch, b.open_until, b.probe_holder, b.probe_expires_at, b.reset_generation, b.updated_at
            """,
            Text(names),
            new NpgsqlParameter { NpgsqlDbType = NpgsqlDbType.Array | NpgsqlDbType.Interval, Value = deltas.Select(d => d.SamplingDuration).ToArray() }));

        await using var reader = await batch.ExecuteReaderAsync(cancellationToken);
        while (reader.FieldCount == 0 && await reader.NextResultAsync(cancellationToken))
        {
        }

        var rows = new List<BreakerRow>();
        while (await reader.ReadAsync(cancellationToken))
        {
            rows.Add(Read(reader) with { Successes = reader.GetInt64(9), Failures = reader.GetInt64(10) });
        }

        return rows;
    }

    /// <summary>
    /// Claims the half-open probe for <paramref name="token"/> when the break has ended (or the last probe's lease has
    /// run out). The row lock makes concurrent claims from every instance queue up, and each re-checks the condition
    /// after the one before it committed: exactly one wins. The returned row's holder says who.
    /// </summary>
    internal Task<BreakerRow> TryClaimProbeAsync(string name, string token, TimeSpan lease, CancellationToken cancellationToken) =>
        ChangeAsync(
            """
            UPDATE circuit_breakers SET state = 2, probe_holder = $2, probe_expires_at = now() + $3, updated_at = now()
             WHERE name = $1
               AND ((state = 1 AND open_until <= now()) OR (state = 2 AND (probe_expires_at IS NULL OR probe_expires_at <= now())))
            """,
            [new NpgsqlParameter { Value = name }, new NpgsqlParameter { Value = token }, new NpgsqlParameter { Value = lease }],
            name, cancellationToken);

    /// <summary>The probe succeeded: closed everywhere, a new epoch. A no-op when the probe is no longer <paramref name="token"/>'s.</summary>
    internal Task<BreakerRow> CloseAfterProbeAsync(string name, string token, CancellationToken cancellationToken) =>
        ChangeAsync(
            """
            UPDATE circuit_breakers
               SET state = 0, epoch = epoch + 1, open_until = NULL, probe_holder = NULL, probe_expires_at = NULL, updated_at = now()
             WHERE name = $1 AND state = 2 AND probe_holder = $2
            """,
            [new NpgsqlParameter { Value = name }, new NpgsqlParameter { Value = token }],
            name, cancellationToken);

    /// <summary>The probe did not come back (cancelled): open again with the break already over, so another may go at once.</summary>
    internal Task<BreakerRow> ReleaseProbeAsync(string name, string token, CancellationToken cancellationToken) =>
        ChangeAsync(
            """
            UPDATE circuit_breakers SET state = 1, open_until = now(), probe_holder = NULL, probe_expires_at = NULL, updated_at = now()
             WHERE name = $1 AND state = 2 AND probe_holder = $2
            """,
            [new NpgsqlParameter { Value = name }, new NpgsqlParameter { Value = token }],
            name, cancellationToken);

    /// <summary>The probe failed: open again for another break. A no-op when the probe is no longer <paramref name="token"/>'s.</summary>
    internal Task<BreakerRow> ReopenAfterProbeAsync(string name, string token, TimeSpan breakDuration, string holder, CancellationToken cancellationToken) =>
        ChangeAsync(
            """
            UPDATE circuit_breakers
               SET state = 1, epoch = epoch + 1, opened_at = now(), open_until = now() + $3, opened_by = $4, reason = 'the half-open probe failed',
                   probe_holder = NULL, probe_expires_at = NULL, updated_at = now()
             WHERE name = $1 AND state = 2 AND probe_holder = $2
            """,
            [new NpgsqlParameter { Value = name }, new NpgsqlParameter { Value = token }, new NpgsqlParameter { Value = breakDuration }, new NpgsqlParameter { Value = holder }],
            name, cancellationToken);

    /// <summary>
    /// Opens a closed breaker for <paramref name="breakDuration"/> when it is still in <paramref name="epoch"/> (-1: whatever
    /// epoch it is in): a reset or another instance's trip since then wins.
    /// </summary>
    internal Task<BreakerRow> TripAsync(string name, long epoch, TimeSpan breakDuration, string holder, string reason, CancellationToken cancellationToken) =>
        ChangeAsync(
            """
            UPDATE circuit_breakers
               SET state = 1, epoch = epoch + 1, opened_at = now(), open_until = now() + $3, opened_by = $4, reason = $5,
                   probe_holder = NULL, probe_expires_at = NULL, updated_at = now()
             WHERE name = $1 AND state = 0 AND ($2 = -1 OR epoch = $2)
            """,
            [new NpgsqlParameter { Value = name }, new NpgsqlParameter { Value = epoch }, new NpgsqlParameter { Value = breakDuration },
             new NpgsqlParameter { Value = holder }, new NpgsqlParameter { Value = reason }],
            name, cancellationToken);

    /// <summary>
    /// Closes the named breakers (all when <paramref name="name"/> is null) for every instance, in the caller's
    /// transaction: state closed, probe cleared, a new epoch so earlier samples no longer count, and the reset
    /// generation moved so each instance that had it open logs it. Returns each breaker's new reset generation.
    /// </summary>
    internal static async Task<IReadOnlyDictionary<string, long>> ResetAsync(
        NpgsqlConnection connection, NpgsqlTransaction transaction, string? name, string actor, CancellationToken cancellationToken)
    {
        await using var command = new NpgsqlCommand(
            """
            UPDATE circuit_breakers
               SET reset_generation = reset_generation + 1, reset_at = now(), reset_by = @actor,
                   state = 0, epoch = epoch + 1, open_until = NULL, probe_holder = NULL, probe_expires_at = NULL, updated_at = now()
             WHERE @name::text IS NULL OR name = @name
            RETURNING name, reset_generation
            """, connection, transaction);
        command.Parameters.AddWithValue("actor", actor);
        command.Parameters.Add(new NpgsqlParameter("name", NpgsqlDbType.Text) { Value = (object?)name ?? DBNull.Value });
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        var reset = new Dictionary<string, long>(StringComparer.Ordinal);
        while (await reader.ReadAsync(cancellationToken))
        {
            reset[reader.GetString(0)] = reader.GetInt64(1);
        }

        return reset;
    }

    private async Task<BreakerRow> ChangeAsync(string update, NpgsqlParameter[] parameters, string name, CancellationToken cancellationToken)
    {
        // One implicit transaction: the read sees the update, whether or not its condition held.
        await using var batch = dataSource.CreateBatch();
        batch.BatchCommands.Add(Command("INSERT INTO circuit_breakers (name) VALUES ($1) ON CONFLICT (name) DO NOTHING", new NpgsqlParameter { Value = name }));
        batch.BatchCommands.Add(Command(update, parameters));
        batch.BatchCommands.Add(Command(ReadOne, new NpgsqlParameter { Value = name }));
        await using var reader = await batch.ExecuteReaderAsync(cancellationToken);
        while (reader.FieldCount == 0 && await reader.NextResultAsync(cancellationToken))
        {
        }

        if (!await reader.ReadAsync(cancellationToken))
        {
            throw new InvalidOperationException($"circuit breaker '{name}' has no row");
        }

        return Read(reader);
    }

    private static BreakerRow Read(NpgsqlDataReader reader) => new(
        reader.GetString(0),
        (CircuitState)reader.GetInt16(1),
        reader.GetInt64(2),
        reader.IsDBNull(3) ? null : reader.GetFieldValue<DateTimeOffset>(3),
        reader.IsDBNull(4) ? null : reader.GetString(4),
        reader.IsDBNull(5) ? null : reader.GetFieldValue<DateTimeOffset>(5),
        reader.GetInt64(6),
        reader.GetFieldValue<DateTimeOffset>(7),
        reader.GetFieldValue<DateTimeOffset>(8));

    private static NpgsqlBatchCommand Command(string sql, params NpgsqlParameter[] parameters)
    {
        var command = new NpgsqlBatchCommand(sql);
        command.Parameters.AddRange(parameters);
        return command;
    }

    private static NpgsqlParameter Text(string[] values) => new() { NpgsqlDbType = NpgsqlDbType.Array | NpgsqlDbType.Text, Value = values };

    private static NpgsqlParameter Bigints(IEnumerable<long> values) => new() { NpgsqlDbType = NpgsqlDbType.Array | NpgsqlDbType.Bigint, Value = values.ToArray() };
}
