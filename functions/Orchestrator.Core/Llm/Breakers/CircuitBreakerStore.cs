using Microsoft.Extensions.Options;
using Npgsql;
using NpgsqlTypes;
using Orchestrator.Core.Persistence;
using Orchestrator.Core.Resilience;
using Polly.CircuitBreaker;

namespace Orchestrator.Core.Llm.Breakers;

/// <summary>
/// All SQL over <c>circuit_breakers</c> (the shared state and the probe claim) and <c>circuit_breaker_samples</c>.
/// Every state change is one conditional <c>UPDATE</c> batched with a read of the row, so the caller learns the
/// outcome and the database clock in one round trip. Each round trip is bounded by
/// <see cref="SharedBreakerOptions.DatabaseTimeout"/>: a database that stops answering sends the breakers to their
/// local fallback that soon, never holding up a call longer.
/// </summary>
public sealed class CircuitBreakerStore(NpgsqlDataSource dataSource, IOptions<SharedBreakerOptions> options, TimeProvider time)
{
    private const string Columns = "name, state, epoch, open_until, probe_holder, probe_expires_at, reset_generation, version, now()";

    // Every change of a row moves its version (and its time, for operators).
    private const string Changed = "version = version + 1, updated_at = now()";

    private const string Register = "INSERT INTO circuit_breakers (name) SELECT unnest($1::text[]) ON CONFLICT (name) DO NOTHING";

    private readonly SharedBreakerOptions settings = options.Value;

    private const string ReadOne = $"SELECT {Columns} FROM circuit_breakers WHERE name = $1";

    /// <summary>
    /// The sync tick, one round trip for all breakers: lists them, adds this instance's deltas to its own bucket (only
    /// for the epoch they were counted in), deletes samples no longer counted, and reads every breaker's state with its
    /// sample sums over its sampling window.
    /// </summary>
    /// <param name="register">List the breakers first (the first tick, and after PostgreSQL did not answer).</param>
    /// <param name="prune">Also delete the samples no longer counted (every so many ticks).</param>
    internal Task<IReadOnlyList<BreakerRow>> SyncAsync(
        string holder, IReadOnlyList<BreakerDelta> deltas, bool register, bool prune, CancellationToken cancellationToken) =>
        RunAsync(async (connection, token) =>
        {
            var rows = new List<BreakerRow>();
            await using var reader = await SyncBatch(connection, holder, deltas, register, prune).ExecuteReaderAsync(token);
            while (reader.FieldCount == 0 && await reader.NextResultAsync(token))
            {
            }

            while (await reader.ReadAsync(token))
            {
                rows.Add(Read(reader) with { Successes = reader.GetInt64(9), Failures = reader.GetInt64(10) });
            }

            return (IReadOnlyList<BreakerRow>)rows;
        }, cancellationToken);

    private NpgsqlBatch SyncBatch(NpgsqlConnection connection, string holder, IReadOnlyList<BreakerDelta> deltas, bool register, bool prune)
    {
        var names = deltas.Select(d => d.Name).ToArray();
        var batch = new NpgsqlBatch(connection) { Timeout = BoundedStatement.CommandTimeoutSeconds(settings.DatabaseTimeout) };
        if (register)
        {
            batch.BatchCommands.Add(Command(Register, Text(names)));
        }

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
        // Samples of an earlier epoch, or older than the longest sampling window of this instance's breakers, are no
        // longer counted. Rows another instance is writing are skipped (a later prune gets them): no lock waits.
        if (prune)
        {
            batch.BatchCommands.Add(Command(
                """
                DELETE FROM circuit_breaker_samples WHERE ctid IN (
                    SELECT s.ctid FROM circuit_breaker_samples s JOIN circuit_breakers b ON b.name = s.name
                     WHERE s.epoch < b.epoch OR s.bucket_start < now() - $1
                       FOR UPDATE OF s SKIP LOCKED)
                """,
                new NpgsqlParameter { Value = deltas.Select(d => d.SamplingDuration).DefaultIfEmpty(TimeSpan.FromHours(1)).Max() }));
        }

        batch.BatchCommands.Add(Command(
            $"""
            SELECT b.name, b.state, b.epoch, b.open_until, b.probe_holder, b.probe_expires_at, b.reset_generation, b.version, now(),
                   coalesce(sum(s.successes), 0)::bigint, coalesce(sum(s.failures), 0)::bigint
              FROM unnest($1::text[], $2::interval[]) AS l (name, sampling)
              JOIN circuit_breakers b ON b.name = l.name
              LEFT JOIN circuit_breaker_samples s ON s.name = b.name AND s.epoch = b.epoch AND s.bucket_start > now() - l.sampling
             GROUP BY b.name, b.state, b.epoch, b.open_until, b.probe_holder, b.probe_expires_at, b.reset_generation, b.version
            """,
            Text(names),
            new NpgsqlParameter { NpgsqlDbType = NpgsqlDbType.Array | NpgsqlDbType.Interval, Value = deltas.Select(d => d.SamplingDuration).ToArray() }));
        return batch;
    }

    /// <summary>
    /// Claims the half-open probe for <paramref name="token"/> when the break has ended (or the last probe's lease has
    /// run out). The row lock makes concurrent claims from every instance queue up, and each re-checks the condition
    /// after the one before it committed: exactly one wins. The returned row's holder says who.
    /// </summary>
    internal Task<BreakerRow> TryClaimProbeAsync(string name, string token, TimeSpan lease, CancellationToken cancellationToken) =>
        ChangeAsync(
            $"""
            UPDATE circuit_breakers SET state = 2, probe_holder = $2, probe_expires_at = now() + $3, {Changed}
             WHERE name = $1
               AND ((state = 1 AND open_until <= now()) OR (state = 2 AND (probe_expires_at IS NULL OR probe_expires_at <= now())))
            """,
            [new NpgsqlParameter { Value = name }, new NpgsqlParameter { Value = token }, new NpgsqlParameter { Value = lease }],
            name, cancellationToken);

    /// <summary>The probe succeeded: closed everywhere, a new epoch. A no-op when the probe is no longer <paramref name="token"/>'s.</summary>
    internal Task<BreakerRow> CloseAfterProbeAsync(string name, string token, CancellationToken cancellationToken) =>
        ChangeAsync(
            $"""
            UPDATE circuit_breakers
               SET state = 0, epoch = epoch + 1, open_until = NULL, probe_holder = NULL, probe_expires_at = NULL, {Changed}
             WHERE name = $1 AND state = 2 AND probe_holder = $2
            """,
            [new NpgsqlParameter { Value = name }, new NpgsqlParameter { Value = token }],
            name, cancellationToken);

    /// <summary>The probe did not come back (cancelled): open again with the break already over, so another may go at once.</summary>
    internal Task<BreakerRow> ReleaseProbeAsync(string name, string token, CancellationToken cancellationToken) =>
        ChangeAsync(
            $"""
            UPDATE circuit_breakers SET state = 1, open_until = now(), probe_holder = NULL, probe_expires_at = NULL, {Changed}
             WHERE name = $1 AND state = 2 AND probe_holder = $2
            """,
            [new NpgsqlParameter { Value = name }, new NpgsqlParameter { Value = token }],
            name, cancellationToken);

    /// <summary>The probe failed: open again for another break. A no-op when the probe is no longer <paramref name="token"/>'s.</summary>
    internal Task<BreakerRow> ReopenAfterProbeAsync(string name, string token, TimeSpan breakDuration, string holder, CancellationToken cancellationToken) =>
        ChangeAsync(
            $"""
            UPDATE circuit_breakers
               SET state = 1, epoch = epoch + 1, opened_at = now(), open_until = now() + $3, opened_by = $4, reason = 'the half-open probe failed',
                   probe_holder = NULL, probe_expires_at = NULL, {Changed}
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
            $"""
            UPDATE circuit_breakers
               SET state = 1, epoch = epoch + 1, opened_at = now(), open_until = now() + $3, opened_by = $4, reason = $5,
                   probe_holder = NULL, probe_expires_at = NULL, {Changed}
             WHERE name = $1 AND state = 0 AND ($2 = -1 OR epoch = $2)
            """,
            [new NpgsqlParameter { Value = name }, new NpgsqlParameter { Value = epoch }, new NpgsqlParameter { Value = breakDuration },
             new NpgsqlParameter { Value = holder }, new NpgsqlParameter { Value = reason }],
            name, cancellationToken);

    /// <summary>
    /// Closes the named breakers (all when <paramref name="name"/> is null) for every instance, in the caller's
    /// transaction: state closed, probe cleared, a new epoch so earlier samples no longer count, and the reset
    /// generation moved so each instance that had it open logs it. Returns each breaker's new row.
    /// </summary>
    internal static async Task<IReadOnlyList<BreakerRow>> ResetAsync(
        NpgsqlConnection connection, NpgsqlTransaction transaction, string? name, string actor, CancellationToken cancellationToken)
    {
        await using var command = new NpgsqlCommand(
            $"""
            UPDATE circuit_breakers
               SET reset_generation = reset_generation + 1, reset_at = now(), reset_by = @actor,
                   state = 0, epoch = epoch + 1, open_until = NULL, probe_holder = NULL, probe_expires_at = NULL, {Changed}
             WHERE @name::text IS NULL OR name = @name
            RETURNING {Columns}
            """, connection, transaction);
        command.Parameters.AddWithValue("actor", actor);
        command.Parameters.AddNullable("name", NpgsqlDbType.Text, name);
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        var reset = new List<BreakerRow>();
        while (await reader.ReadAsync(cancellationToken))
        {
            reset.Add(Read(reader));
        }

        return reset;
    }

    /// <summary>Lists <paramref name="names"/> (a no-op for those listed already), in the caller's transaction.</summary>
    internal static async Task RegisterAsync(NpgsqlConnection connection, NpgsqlTransaction transaction, IEnumerable<string> names, CancellationToken cancellationToken)
    {
        await using var command = new NpgsqlCommand(Register, connection, transaction);
        command.Parameters.Add(Text(names.ToArray()));
        await command.ExecuteNonQueryAsync(cancellationToken);
    }

    private Task<BreakerRow> ChangeAsync(string update, NpgsqlParameter[] parameters, string name, CancellationToken cancellationToken) =>
        RunAsync(async (connection, token) =>
        {
            // One implicit transaction: the read sees the update, whether or not its condition held.
            await using var batch = new NpgsqlBatch(connection) { Timeout = BoundedStatement.CommandTimeoutSeconds(settings.DatabaseTimeout) };
            batch.BatchCommands.Add(Command(Register, Text([name])));
            batch.BatchCommands.Add(Command(update, parameters));
            batch.BatchCommands.Add(Command(ReadOne, new NpgsqlParameter { Value = name }));
            await using var reader = await batch.ExecuteReaderAsync(token);
            while (reader.FieldCount == 0 && await reader.NextResultAsync(token))
            {
            }

            return await reader.ReadAsync(token) ? Read(reader) : throw new InvalidOperationException($"circuit breaker '{name}' has no row");
        }, cancellationToken);

    private Task<T> RunAsync<T>(Func<NpgsqlConnection, CancellationToken, Task<T>> work, CancellationToken cancellationToken) =>
        BoundedStatement.RunAsync(dataSource, settings.DatabaseTimeout, time, work, cancellationToken);

    private static BreakerRow Read(NpgsqlDataReader reader) => new(
        reader.GetString(0),
        (CircuitState)reader.GetInt16(1),
        reader.GetInt64(2),
        reader.IsDBNull(3) ? null : reader.GetFieldValue<DateTimeOffset>(3),
        reader.IsDBNull(4) ? null : reader.GetString(4),
        reader.IsDBNull(5) ? null : reader.GetFieldValue<DateTimeOffset>(5),
        reader.GetInt64(6),
        reader.GetInt64(7),
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
