using Microsoft.Extensions.Logging;
using Npgsql;

namespace Orchestrator.Durable.Postgres;

/// <summary>
/// Holds one connection that LISTENs for new work and wakes the fetch loops the moment a message is queued, by any
/// process. While the connection is down (database restarting, failover) the loops fall back to their poll.
/// </summary>
internal sealed class NotificationListener(NpgsqlDataSource dataSource, WorkSignal orchestrations, WorkSignal activities, ILogger logger)
{
    public const string OrchestrationChannel = "durable_orchestrations";
    public const string ActivityChannel = "durable_activities";
    private static readonly TimeSpan ReconnectDelay = TimeSpan.FromSeconds(1);

    public async Task RunAsync(CancellationToken cancellationToken)
    {
        var failures = 0;
        while (!cancellationToken.IsCancellationRequested)
        {
            try
            {
                await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
                connection.Notification += (_, e) => (e.Channel == ActivityChannel ? activities : orchestrations).Pulse();
                await using (var listen = new NpgsqlCommand($"LISTEN {OrchestrationChannel}; LISTEN {ActivityChannel}", connection))
                {
                    await listen.ExecuteNonQueryAsync(cancellationToken);
                }

                if (failures > 0)
                {
                    DurableLog.ListenerReconnected(logger, failures);
                    failures = 0;
                }

                // Whatever was queued while nobody listened is found by looking once.
                orchestrations.Pulse();
                activities.Pulse();
                try
                {
                    while (true)
                    {
                        await connection.WaitAsync(cancellationToken);
                    }
                }
                catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
                {
                    // The pool may not reset a connection it takes back: leave nothing listening on it (best effort;
                    // a broken connection is not returned to the pool anyway).
                    try
                    {
                        await using var unlisten = new NpgsqlCommand("UNLISTEN *", connection);
                        await unlisten.ExecuteNonQueryAsync(CancellationToken.None);
                    }
                    catch (Exception ex) when (ex is NpgsqlException or InvalidOperationException or TimeoutException)
                    {
                    }

                    return;
                }
            }
            catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
            {
                return;
            }
            catch (Exception ex)
            {
                if (failures++ == 0)
                {
                    DurableLog.ListenerLost(logger, ex.Message);
                }

                try
                {
                    await Task.Delay(ReconnectDelay, cancellationToken);
                }
                catch (OperationCanceledException)
                {
                    return;
                }
            }
        }
    }
}
