using Npgsql;
using NpgsqlTypes;
using Orchestrator.Core.Resilience;

namespace Orchestrator.Core.Incidents.Notices;

/// <summary>
/// The statements on <c>incident_notices</c> a sender makes, each one short, autocommitted and time-bounded. Per
/// channel only the head (the oldest pending notice) may be claimed, so notices go out in id order one at a time; a
/// claim is a lease (holder + expiry), and every mark after the attempt succeeds only for the claim that made it.
/// </summary>
internal sealed class NoticeLedger(NpgsqlDataSource dataSource, TimeSpan limit, TimeProvider time)
{
    // The head is locked FOR UPDATE (not SKIP LOCKED: a second sender must wait and then see the head claimed, not
    // take the notice behind it). Under READ COMMITTED a sender that waited re-reads the head: still pending and
    // claimed → no row; sent or rejected meanwhile → the next one is the head now.
    private const string ClaimSql =
        """
        UPDATE incident_notices
           SET claimed_by = $2, claim_expires_at = $4, attempts = attempts + 1, last_attempt_at = $3
         WHERE id = (SELECT id FROM incident_notices WHERE channel = $1 AND status = 'pending' ORDER BY id LIMIT 1 FOR UPDATE)
           AND next_attempt_at <= $3
           AND (claimed_by IS NULL OR claim_expires_at <= $3)
        RETURNING id, content::text, attempts
        """;

    // The claim (holder and attempt number) fences the mark: a sender whose lease lapsed and was taken over marks nothing.
    private const string FinishSql =
        """
        UPDATE incident_notices
           SET status = $3,
               sent_at = CASE WHEN $3 = 'sent' THEN $4 END,
               last_attempt_at = $4,
               next_attempt_at = COALESCE($5, next_attempt_at),
               last_status_code = $6,
               last_error = $7,
               claimed_by = CASE WHEN $3 = 'pending' THEN NULL ELSE claimed_by END,
               claim_expires_at = NULL
         WHERE id = $1 AND claimed_by = $2 AND attempts = $8 AND status = 'pending'
        """;

    private const string ReleaseSql =
        "UPDATE incident_notices SET claimed_by = NULL, claim_expires_at = NULL WHERE id = $1 AND claimed_by = $2 AND attempts = $3 AND status = 'pending'";

    /// <summary>Claims the head of <paramref name="channel"/> until <paramref name="now"/> + <paramref name="lease"/>; null when it is not due, claimed, or there is none.</summary>
    public Task<ClaimedNotice?> ClaimHeadAsync(string channel, string holder, DateTimeOffset now, TimeSpan lease, CancellationToken cancellationToken) =>
        RunAsync(async (connection, ct) =>
        {
            await using var command = Command(connection, ClaimSql, Text(channel), Text(holder), At(now), At(now + lease));
            await using var reader = await command.ExecuteReaderAsync(ct);
            return await reader.ReadAsync(ct) ? new ClaimedNotice(reader.GetInt64(0), channel, reader.GetString(1), reader.GetInt32(2)) : null;
        }, cancellationToken);

    /// <summary>Records the attempt's outcome; false when the claim was no longer this sender's.</summary>
    public Task<bool> FinishAsync(ClaimedNotice notice, string holder, NoticeAttempt attempt, DateTimeOffset now, DateTimeOffset? nextAttemptAt, CancellationToken cancellationToken)
    {
        var status = attempt.Outcome switch
        {
            NoticeOutcome.Sent => "sent",
            NoticeOutcome.Rejected => "rejected",
            _ => "pending",
        };
        return RunAsync(async (connection, ct) =>
        {
            await using var command = Command(
                connection, FinishSql, Id(notice.Id), Text(holder), Text(status), At(now), At(nextAttemptAt),
                new NpgsqlParameter { NpgsqlDbType = NpgsqlDbType.Integer, Value = (object?)attempt.StatusCode ?? DBNull.Value },
                Text(attempt.Error), Number(notice.Attempt));
            return await command.ExecuteNonQueryAsync(ct) == 1;
        }, cancellationToken);
    }

    /// <summary>Gives a claimed notice back unattempted (the sender is stopping), so another sender may take it at once.</summary>
    public Task<bool> ReleaseAsync(ClaimedNotice notice, string holder, CancellationToken cancellationToken) =>
        RunAsync(async (connection, ct) =>
        {
            await using var command = Command(connection, ReleaseSql, Id(notice.Id), Text(holder), Number(notice.Attempt));
            return await command.ExecuteNonQueryAsync(ct) == 1;
        }, cancellationToken);

    private Task<T> RunAsync<T>(Func<NpgsqlConnection, CancellationToken, Task<T>> work, CancellationToken cancellationToken) =>
        BoundedStatement.RunAsync(dataSource, limit, time, work, cancellationToken);

    private NpgsqlCommand Command(NpgsqlConnection connection, string sql, params NpgsqlParameter[] parameters)
    {
        var command = new NpgsqlCommand(sql, connection) { CommandTimeout = BoundedStatement.CommandTimeoutSeconds(limit) };
        command.Parameters.AddRange(parameters);
        return command;
    }

    private static NpgsqlParameter<long> Id(long id) => new NpgsqlParameter<long> { TypedValue = id };

    private static NpgsqlParameter<int> Number(int value) => new NpgsqlParameter<int> { TypedValue = value };

    private static NpgsqlParameter Text(string? value) => new() { NpgsqlDbType = NpgsqlDbType.Text, Value = (object?)value ?? DBNull.Value };

    private static NpgsqlParameter At(DateTimeOffset? value) => new() { NpgsqlDbType = NpgsqlDbType.TimestampTz, Value = (object?)value?.ToUniversalTime() ?? DBNull.Value };
}
