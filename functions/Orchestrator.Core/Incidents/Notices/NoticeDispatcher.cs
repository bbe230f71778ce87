using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Npgsql;
using Orchestrator.Core.Hosting;
using Orchestrator.Core.Metrics;
using Orchestrator.Core.Monitoring;

namespace Orchestrator.Core.Incidents.Notices;

/// <summary>
/// Delivers the notice ledger: per configured channel, the oldest pending notice (and only it) is claimed, sent,
/// and marked sent, retried later, or rejected; then the next. Any number of dispatchers, in any number of
/// instances, share the ledger: each notice is sent once (bar a sender dying mid-send, see <see cref="WebhookNoticeFormatter"/>),
/// in id order per channel.
/// </summary>
public sealed class NoticeDispatcher(
    [FromKeyedServices(MonitoringExtensions.DataSourceKey)] NpgsqlDataSource dataSource,
    IHttpClientFactory httpClients,
    IOptions<NoticeOptions> options,
    InstanceIdentity identity,
    TimeProvider time,
    OrchestratorMetrics metrics,
    ILogger<NoticeDispatcher> logger) : IDirectNoticeSender
{
    /// <summary>The named <see cref="HttpClient"/> notices go out with.</summary>
    public const string HttpClientName = "notices";

    /// <summary>A request option marking a notice request, so its URL (a secret) is kept out of traces.</summary>
    public static readonly HttpRequestOptionsKey<bool> NoticeRequest = new("Orchestrator.NoticeRequest");

    private const int BodyMax = 4096;

    private static readonly NoticeFormatter[] Formatters =
        [new SlackNoticeFormatter(), new TeamsNoticeFormatter(), new PagerDutyNoticeFormatter(), new WebhookNoticeFormatter()];

    private readonly NoticeLedger ledger = new(dataSource, options.Value.DatabaseTimeout, time);

    /// <summary>One pass over every configured channel, sending what is due; returns how many notices it sent.</summary>
    public async Task<int> DispatchAsync(CancellationToken cancellationToken)
    {
        var settings = options.Value;
        var sent = await Task.WhenAll(Formatters.Where(f => f.IsConfigured(settings)).Select(f => DispatchChannelAsync(f, settings, cancellationToken)));
        return sent.Sum();
    }

    /// <summary>
    /// Sends <paramref name="content"/> to each of <paramref name="channels"/> once, without the ledger (the database
    /// is away); the channels that took it. A refusal or a failure is logged and left for the caller to try again.
    /// </summary>
    public async Task<IReadOnlyCollection<string>> SendAsync(NoticeContent content, IEnumerable<string> channels, CancellationToken cancellationToken)
    {
        var settings = options.Value;
        var wanted = channels.ToHashSet(StringComparer.Ordinal);
        var delivered = new List<string>();
        foreach (var formatter in Formatters.Where(f => wanted.Contains(f.Channel) && f.IsConfigured(settings)))
        {
            var attempt = await AttemptAsync(formatter, settings, 0, content, cancellationToken);
            metrics.Notices.WithLabels(formatter.Channel, attempt.Label).Inc();
            if (attempt.Outcome == NoticeOutcome.Sent)
            {
                Log.NoticeSentDirectly(logger, content.IncidentId, content.Kind, formatter.Channel);
                delivered.Add(formatter.Channel);
            }
            else
            {
                Log.NoticeNotSentDirectly(logger, content.IncidentId, content.Kind, formatter.Channel, attempt.StatusCode, attempt.Error ?? "");
            }
        }

        return delivered;
    }

    private async Task<int> DispatchChannelAsync(NoticeFormatter formatter, NoticeOptions settings, CancellationToken cancellationToken)
    {
        var sent = 0;
        while (true)
        {
            cancellationToken.ThrowIfCancellationRequested();
            var notice = await ledger.ClaimHeadAsync(formatter.Channel, identity.Holder, time.GetUtcNow(), settings.ClaimLease, cancellationToken);
            if (notice is null)
            {
                return sent;
            }

            NoticeAttempt attempt;
            try
            {
                attempt = await AttemptAsync(formatter, settings, notice, cancellationToken);
            }
            catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
            {
                // Stopping: give the notice back so another instance need not wait out the lease.
                await ledger.ReleaseAsync(notice, identity.Holder, CancellationToken.None);
                throw;
            }

            var now = time.GetUtcNow();
            var nextAttemptAt = attempt.Outcome == NoticeOutcome.Retried ? now + Backoff(settings, notice.Attempt, attempt.RetryAfter) : (DateTimeOffset?)null;
            bool recorded;
            try
            {
                recorded = await ledger.FinishAsync(notice, identity.Holder, attempt, now, nextAttemptAt, CancellationToken.None);
            }
            catch (Exception ex) when (ex is NpgsqlException or TimeoutException)
            {
                Log.NoticeNotRecorded(logger, notice.Id, formatter.Channel, attempt.Label, ex.Message, settings.ClaimLease);
                return sent;
            }

            metrics.Notices.WithLabels(formatter.Channel, attempt.Label).Inc();
            if (!recorded)
            {
                Log.NoticeClaimLost(logger, notice.Id, formatter.Channel, attempt.Label);
                return sent;
            }

            switch (attempt.Outcome)
            {
                case NoticeOutcome.Sent:
                    Log.NoticeSent(logger, notice.Id, formatter.Channel, notice.Attempt);
                    sent++;
                    break;
                case NoticeOutcome.Rejected:
                    Log.NoticeRejected(logger, notice.Id, formatter.Channel, attempt.StatusCode, attempt.Error ?? "");
                    break;
                default:
                    // Head of line: nothing behind it goes before it, so this channel is done for this pass.
                    Log.NoticeDeferred(logger, notice.Id, formatter.Channel, attempt.StatusCode, attempt.Error ?? "", notice.Attempt, nextAttemptAt!.Value);
                    return sent;
            }
        }
    }

    private async Task<NoticeAttempt> AttemptAsync(NoticeFormatter formatter, NoticeOptions settings, ClaimedNotice notice, CancellationToken cancellationToken)
    {
        NoticeContent? content;
        try
        {
            content = JsonSerializer.Deserialize<NoticeContent>(notice.Content, NoticeJson.Options);
        }
        catch (JsonException ex)
        {
            return new NoticeAttempt(NoticeOutcome.Rejected, null, "the ledger's content is not a notice: " + ex.Message);
        }

        return content is null
            ? new NoticeAttempt(NoticeOutcome.Rejected, null, "the ledger's content is empty")
            : await AttemptAsync(formatter, settings, notice.Id, content, cancellationToken);
    }

    private async Task<NoticeAttempt> AttemptAsync(NoticeFormatter formatter, NoticeOptions settings, long noticeId, NoticeContent content, CancellationToken cancellationToken)
    {
        using var request = formatter.CreateRequest(noticeId, content, settings, time.GetUtcNow());
        request.Options.Set(NoticeRequest, true);
        using var timeout = new CancellationTokenSource(settings.RequestTimeout, time);
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, timeout.Token);
        NoticeAttempt attempt;
        try
        {
            var client = httpClients.CreateClient(HttpClientName);
            using var response = await client.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, linked.Token);
            var body = await ReadBodyAsync(response, linked.Token);
            attempt = NoticeResponses.Classify(formatter, (int)response.StatusCode, body, response.Headers.RetryAfter, time.GetUtcNow());
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            attempt = new NoticeAttempt(NoticeOutcome.Retried, null, FormattableString.Invariant($"no answer within {settings.RequestTimeout.TotalSeconds:0.###} s"));
        }
        catch (Exception ex) when (ex is HttpRequestException or IOException)
        {
            attempt = new NoticeAttempt(NoticeOutcome.Retried, null, "connection failed: " + ex.Message);
        }

        return attempt.Error is null ? attempt : attempt with { Error = NoticeResponses.Redact(attempt.Error, formatter.Secrets(settings)) };
    }

    /// <summary>The wait before attempt <paramref name="attempt"/> + 1: InitialBackoff doubling up to MaxBackoff, and never shorter than <c>Retry-After</c>.</summary>
    internal static TimeSpan Backoff(NoticeOptions settings, int attempt, TimeSpan? retryAfter)
    {
        var doubled = settings.InitialBackoff.TotalMilliseconds * Math.Pow(2, Math.Clamp(attempt - 1, 0, 30));
        var backoff = TimeSpan.FromMilliseconds(Math.Min(doubled, settings.MaxBackoff.TotalMilliseconds));
        return retryAfter is { } wait && wait > backoff ? wait : backoff;
    }

    private static async Task<string> ReadBodyAsync(HttpResponseMessage response, CancellationToken cancellationToken)
    {
        await using var stream = await response.Content.ReadAsStreamAsync(cancellationToken);
        var buffer = new char[BodyMax];
        using var reader = new StreamReader(stream);
        var read = await reader.ReadBlockAsync(buffer, cancellationToken);
        return new string(buffer, 0, read);
    }
}
