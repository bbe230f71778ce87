using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Npgsql;

namespace Orchestrator.Core.Monitoring;

/// <summary>
/// The Server's election of who runs each check: a session-level PostgreSQL advisory lock per check, held on one
/// connection of this instance's own. While that session lives no other instance gets the lock; when the instance dies
/// (or its connection does) PostgreSQL releases the locks and the next instance to try at its next scheduled run takes
/// them, so a check changes hands within one schedule period.
/// </summary>
public sealed class MonitorLocks([FromKeyedServices(MonitoringExtensions.DataSourceKey)] NpgsqlDataSource dataSource, TimeProvider time, ILogger<MonitorLocks> logger) : IAsyncDisposable
{
    /// <summary>Keeps advisory lock keys of the checks apart from any other user of the database's advisory locks.</summary>
    public const string KeyPrefix = "llm-orchestrator:monitor:";

    private static readonly TimeSpan Limit = TimeSpan.FromSeconds(5);

    private readonly SemaphoreSlim gate = new(1, 1);
    private readonly HashSet<string> held = new(StringComparer.Ordinal);
    private readonly HashSet<string> heldWhenLost = new(StringComparer.Ordinal);
    private NpgsqlConnection? connection;

    /// <summary>Whether this instance holds the lock of <paramref name="check"/> now, taking it when it is free.</summary>
    public async Task<bool> HoldAsync(string check, CancellationToken cancellationToken)
    {
        await gate.WaitAsync(cancellationToken);
        try
        {
            connection ??= await OpenAsync(cancellationToken);
            if (held.Contains(check))
            {
                // The session is alive, so the lock is still ours.
                await ScalarAsync("SELECT 1", null, cancellationToken);
                return true;
            }

            // The database answers again: whoever gets the lock now runs the check, this instance or another.
            heldWhenLost.Remove(check);
            if (await ScalarAsync("SELECT pg_try_advisory_lock(hashtext(@key))", KeyPrefix + check, cancellationToken) is true)
            {
                held.Add(check);
                Log.MonitorLockTaken(logger, check);
                return true;
            }

            return false;
        }
        catch (Exception ex) when (ex is NpgsqlException or TimeoutException or InvalidOperationException or System.Net.Sockets.SocketException or IOException)
        {
            Log.MonitorLocksLost(logger, ex.GetType().Name, ex.Message);
            heldWhenLost.UnionWith(held);
            await DropAsync();
            return false;
        }
        finally
        {
            gate.Release();
        }
    }

    /// <summary>
    /// Whether this instance held the lock of <paramref name="check"/> when it lost its connection and has not been
    /// able to ask since: while the database is away nobody can take the lock, so the last holder goes on running a
    /// check that watches the database itself.
    /// </summary>
    public bool HeldWhenLost(string check)
    {
        gate.Wait();
        try
        {
            return heldWhenLost.Contains(check);
        }
        finally
        {
            gate.Release();
        }
    }

    /// <summary>The checks whose locks this instance holds (as far as it knows).</summary>
    public IReadOnlyCollection<string> Held
    {
        get
        {
            gate.Wait();
            try
            {
                return held.ToArray();
            }
            finally
            {
                gate.Release();
            }
        }
    }

    public async ValueTask DisposeAsync()
    {
        await gate.WaitAsync();
        try
        {
            if (connection is { State: System.Data.ConnectionState.Open } && held.Count > 0)
            {
                // A pooled connection goes back to the pool with its session (Npgsql resets it only when reused), so
                // the locks are given back here rather than by closing.
                try
                {
                    await ScalarAsync("SELECT pg_advisory_unlock_all()", null, CancellationToken.None);
                }
                catch (Exception ex) when (ex is NpgsqlException or TimeoutException or InvalidOperationException or IOException)
                {
                    Log.MonitorLocksLost(logger, ex.GetType().Name, ex.Message);
                }
            }

            await DropAsync();
        }
        finally
        {
            gate.Release();
        }
    }

    private async Task<NpgsqlConnection> OpenAsync(CancellationToken cancellationToken)
    {
        using var timeout = new CancellationTokenSource(Limit, time);
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, timeout.Token);
        return await dataSource.OpenConnectionAsync(linked.Token).AsTask().WaitAsync(Limit, time, cancellationToken);
    }

    private async Task<object?> ScalarAsync(string sql, string? key, CancellationToken cancellationToken)
    {
        await using var command = new NpgsqlCommand(sql, connection) { CommandTimeout = (int)Limit.TotalSeconds };
        if (key is not null)
        {
            command.Parameters.AddWithValue("key", key);
        }

        // A stalled server may not answer Npgsql's own cancellation either: stop waiting at the limit regardless.
        return await command.ExecuteScalarAsync(cancellationToken).WaitAsync(Limit, time, cancellationToken);
    }

    private async Task DropAsync()
    {
        held.Clear();
        if (connection is { } lost)
        {
            connection = null;
            // A broken connection is not pooled: its session ends with it, and with it the locks.
            _ = lost.DisposeAsync().AsTask().ContinueWith(static t => _ = t.Exception, TaskScheduler.Default);
        }

        await Task.CompletedTask;
    }
}
