using Microsoft.Extensions.Logging;
using Npgsql;
using Orchestrator.Core.Resilience;

namespace Orchestrator.Core.Llm.Limits;

/// <summary>
/// One limiter's way to PostgreSQL: every statement on a short leash, and a breaker that sends the limiter to its
/// local fallback when the database is unreachable. While open, one background statement at most every
/// <see cref="LlmLimitOptions.FallbackProbeInterval"/> checks whether the database answers, so no call waits on it.
/// </summary>
internal sealed class LimiterDatabase(
    NpgsqlDataSource dataSource, LlmLimitOptions options, TimeProvider time, ILogger logger, string limit, string provider)
{
    private readonly Lock gate = new();
    private long downSince;
    private long nextProbeAt;
    private bool down;
    private bool probing;

    /// <summary>Bumped each time the database answers again, so a limiter redoes what it set up there.</summary>
    public int Epoch { get; private set; }

    public string Limit => limit;

    public string Provider => provider;

    /// <summary>False while falling back; then starts a background probe when one is due.</summary>
    public bool IsAvailable
    {
        get
        {
            lock (gate)
            {
                if (!down)
                {
                    return true;
                }

                if (probing || time.GetTimestamp() < nextProbeAt)
                {
                    return false;
                }

                probing = true;
            }

            _ = ProbeAsync();
            return false;
        }
    }

    /// <summary>Runs <paramref name="statement"/> on a connection of its own within <see cref="LlmLimitOptions.DatabaseTimeout"/>.</summary>
    public Task<T> RunAsync<T>(Func<NpgsqlConnection, CancellationToken, Task<T>> statement, CancellationToken cancellationToken) =>
        BoundedStatement.RunAsync(dataSource, options.DatabaseTimeout, time, statement, cancellationToken);

    /// <summary>The command timeout matching <see cref="LlmLimitOptions.DatabaseTimeout"/>, for Npgsql's own socket timeout.</summary>
    public int CommandTimeoutSeconds => BoundedStatement.CommandTimeoutSeconds(options.DatabaseTimeout);

    /// <summary>True (and falling back from now on) when <paramref name="exception"/> says the database is unreachable.</summary>
    public bool Unreachable(Exception exception)
    {
        if (!DependencyFailures.IsTransientDatabase(exception))
        {
            return false;
        }

        lock (gate)
        {
            if (down)
            {
                return true;
            }

            down = true;
            downSince = time.GetTimestamp();
            nextProbeAt = downSince + (long)(options.FallbackProbeInterval.TotalSeconds * time.TimestampFrequency);
        }

        Log.LimitFallbackEntered(logger, limit, provider, exception.Message);
        return true;
    }

    private async Task ProbeAsync()
    {
        var answered = false;
        try
        {
            answered = await RunAsync(
                async (connection, token) =>
                {
                    await using var command = new NpgsqlCommand("SELECT 1", connection) { CommandTimeout = CommandTimeoutSeconds };
                    return await command.ExecuteScalarAsync(token) is not null;
                },
                CancellationToken.None);
        }
        catch (Exception)
        {
            // Whatever the reason (unreachable, refused login, disposed at shutdown), it did not answer: probe again later.
        }

        TimeSpan downFor;
        lock (gate)
        {
            probing = false;
            if (!answered)
            {
                nextProbeAt = time.GetTimestamp() + (long)(options.FallbackProbeInterval.TotalSeconds * time.TimestampFrequency);
                return;
            }

            down = false;
            Epoch++;
            downFor = time.GetElapsedTime(downSince);
        }

        Log.LimitFallbackLeft(logger, limit, provider, downFor);
    }
}
