using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Orchestrator.Core.Incidents.Notices;

/// <summary>
/// The Server's sender: a <see cref="NoticeDispatcher"/> pass every <see cref="NoticeOptions.PollInterval"/>, and at
/// once after <see cref="Wake"/>. A pass that fails (the database is down) is logged and the loop goes on, so an
/// outage delays notices and loses none: they wait in the ledger.
/// </summary>
public sealed class NoticeSender(NoticeDispatcher dispatcher, IOptions<NoticeOptions> options, TimeProvider time, ILogger<NoticeSender> logger) : BackgroundService, INoticeSignal
{
    private TaskCompletionSource woken = NewSignal();

    /// <summary>Starts a pass now (or right after the one running): the engine calls this after it writes notices.</summary>
    public void Wake() => Volatile.Read(ref woken).TrySetResult();

    void INoticeSignal.NoticesWritten() => Wake();

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        while (!stoppingToken.IsCancellationRequested)
        {
            // Taken before the pass: a wake-up during it starts the next pass at once instead of being lost.
            var signal = Volatile.Read(ref woken);
            try
            {
                await dispatcher.DispatchAsync(stoppingToken);
            }
            catch (Exception ex) when (!stoppingToken.IsCancellationRequested)
            {
                Log.NoticePassFailed(logger, ex.GetType().Name, ex.Message, options.Value.PollInterval);
            }

            using var waiting = CancellationTokenSource.CreateLinkedTokenSource(stoppingToken);
            await Task.WhenAny(signal.Task, Task.Delay(options.Value.PollInterval, time, waiting.Token));
            await waiting.CancelAsync();
            if (signal.Task.IsCompleted)
            {
                Interlocked.CompareExchange(ref woken, NewSignal(), signal);
            }
        }
    }

    private static TaskCompletionSource NewSignal() => new(TaskCreationOptions.RunContinuationsAsynchronously);
}
