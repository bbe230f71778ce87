using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;
using Npgsql;

namespace Orchestrator.Server.Tests.Infrastructure;

/// <summary>
/// A loopback TCP proxy in front of one dependency, for fault drills: it forwards bytes both ways until told to
/// black-hole them, reset every connection, or refuse new ones.
/// </summary>
/// <remarks>
/// <para><see cref="BlackHole"/> models a network partition. Nothing is closed and nothing is reset: each direction of
/// an open connection holds the chunk it has just read and stops reading, so further bytes wait in the kernel's
/// socket buffers (the sender's writes succeed until those fill, then block, as they would with no ACKs coming back).
/// A connection made while black-holed is accepted by the kernel (the client sees its connect succeed, then silence,
/// where a real partition would leave the SYN unanswered); it is not connected onwards until the partition heals.</para>
/// <para>On <see cref="Pass"/> the held bytes are delivered late, in order, and connections made meanwhile are
/// connected onwards, as TCP's retransmissions would deliver them after a partition that healed in time. A client
/// that gave up meanwhile has closed its side, and the peer then sees the late bytes followed by that close.</para>
/// <para>Known limit: the client's kernel talks TCP to this process's kernel, which keeps ACKing, so TCP keepalive
/// probes succeed across a black hole here; only application-level timeouts and keepalives detect it.</para>
/// </remarks>
public sealed class FaultProxy : IAsyncDisposable
{
    private readonly DnsEndPoint target;
    private readonly ConcurrentDictionary<long, Link> links = new();
    private readonly CancellationTokenSource disposed = new();
    private readonly Lock gate = new();
    private Socket? listener;
    private Task accepting = Task.CompletedTask;
    private TaskCompletionSource open = NewOpenGate(completed: true);
    private FaultMode mode = FaultMode.Pass;
    private long connectionsAccepted;
    private long bytesToTarget;
    private long bytesToClient;
    private long nextLink;

    private FaultProxy(string targetHost, int targetPort) => target = new DnsEndPoint(targetHost, targetPort);

    /// <summary>The loopback port clients connect to instead of the target's.</summary>
    public int Port { get; private set; }

    public FaultMode Mode
    {
        get
        {
            lock (gate)
            {
                return mode;
            }
        }
    }

    /// <summary>Connections the listener accepted, in every mode.</summary>
    public long ConnectionsAccepted => Interlocked.Read(ref connectionsAccepted);

    /// <summary>Bytes written to the target (client to target).</summary>
    public long BytesToTarget => Interlocked.Read(ref bytesToTarget);

    /// <summary>Bytes written back to clients (target to client).</summary>
    public long BytesToClient => Interlocked.Read(ref bytesToClient);

    /// <summary>Client connections currently open through the proxy (held ones included).</summary>
    public int OpenConnections => links.Count;

    /// <summary>Listens on a free 127.0.0.1 port and forwards to <paramref name="targetHost"/>:<paramref name="targetPort"/>.</summary>
    public static Task<FaultProxy> StartAsync(string targetHost, int targetPort)
    {
        var proxy = new FaultProxy(targetHost, targetPort);
        proxy.Listen(0);
        return Task.FromResult(proxy);
    }

    /// <summary>A proxy in front of the host and port of <paramref name="url"/> (http 80 and https 443 by default).</summary>
    public static Task<FaultProxy> StartAsync(Uri url) => StartAsync(url.Host, url.Port);

    /// <summary>A proxy in front of the (single) host and port of an Npgsql connection string.</summary>
    public static Task<FaultProxy> StartForNpgsqlAsync(string connectionString)
    {
        var builder = new NpgsqlConnectionStringBuilder(connectionString);
        return StartAsync(builder.Host!, builder.Port);
    }

    /// <summary>The connection string with Host and Port replaced by the proxy's.</summary>
    public string ForNpgsql(string connectionString) =>
        new NpgsqlConnectionStringBuilder(connectionString) { Host = IPAddress.Loopback.ToString(), Port = Port }.ConnectionString;

    /// <summary>The URL with host and port replaced by the proxy's (scheme, path and query kept).</summary>
    public string ForUrl(string url) => ForUrl(new Uri(url)).ToString();

    public Uri ForUrl(Uri url) => new UriBuilder(url) { Host = IPAddress.Loopback.ToString(), Port = Port }.Uri;

    /// <summary>Forwards everything; bytes held by a black hole are delivered now, and a refused listener listens again.</summary>
    public void Pass() => Switch(FaultMode.Pass);

    /// <summary>Stops delivering bytes in both directions without closing or resetting anything (see the remarks).</summary>
    public void BlackHole() => Switch(FaultMode.BlackHole);

    /// <summary>
    /// Closes the listener, so new connects are refused (ECONNREFUSED). Open connections are left as they are and
    /// keep forwarding; call <see cref="Reset"/> as well to model a peer whose process has stopped.
    /// </summary>
    public void Refuse() => Switch(FaultMode.Refuse);

    /// <summary>
    /// Resets every open connection at once, both its client and its target side (linger 0, so the peers get a
    /// RST, not a FIN), and forwards from now on (<see cref="Pass"/>); the listener keeps accepting.
    /// </summary>
    public void Reset()
    {
        ObjectDisposedException.ThrowIf(disposed.IsCancellationRequested, this);
        foreach (var link in links.Values)
        {
            link.Abort();
        }

        Switch(FaultMode.Pass);
    }

    public async ValueTask DisposeAsync()
    {
        if (disposed.IsCancellationRequested)
        {
            return;
        }

        await disposed.CancelAsync();
        lock (gate)
        {
            listener?.Dispose();
            listener = null;
        }

        foreach (var link in links.Values)
        {
            link.Abort();
        }

        try
        {
            await accepting;
        }
        catch (OperationCanceledException)
        {
        }

        await Task.WhenAll(links.Values.Select(l => l.Completion));
        disposed.Dispose();
    }

    private static TaskCompletionSource NewOpenGate(bool completed)
    {
        var source = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        if (completed)
        {
            source.SetResult();
        }

        return source;
    }

    private void Switch(FaultMode next)
    {
        ObjectDisposedException.ThrowIf(disposed.IsCancellationRequested, this);
        lock (gate)
        {
            if (next == FaultMode.BlackHole)
            {
                if (open.Task.IsCompleted)
                {
                    open = NewOpenGate(completed: false);
                }
            }
            else
            {
                open.TrySetResult();
            }

            if (next == FaultMode.Refuse)
            {
                listener?.Dispose();
                listener = null;
            }
            else if (listener is null)
            {
                Listen(Port);
            }

            mode = next;
        }
    }

    private void Listen(int port)
    {
        var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        try
        {
            // Listening again on the same port after Refuse must not trip over connections in TIME_WAIT.
            socket.SetSocketOption(SocketOptionLevel.Socket, SocketOptionName.ReuseAddress, true);
            socket.Bind(new IPEndPoint(IPAddress.Loopback, port));
            socket.Listen(512);
        }
        catch
        {
            socket.Dispose();
            throw;
        }

        Port = ((IPEndPoint)socket.LocalEndPoint!).Port;
        listener = socket;
        var previous = accepting;
        accepting = Task.Run(async () =>
        {
            await previous.ContinueWith(_ => { }, TaskScheduler.Default);
            await AcceptLoopAsync(socket);
        });
    }

    private async Task AcceptLoopAsync(Socket socket)
    {
        while (!disposed.IsCancellationRequested)
        {
            Socket client;
            try
            {
                client = await socket.AcceptAsync(disposed.Token);
            }
            catch (Exception ex) when (ex is SocketException or ObjectDisposedException or OperationCanceledException)
            {
                return; // Refuse or dispose closed this listener.
            }

            Interlocked.Increment(ref connectionsAccepted);
            client.NoDelay = true;
            var link = new Link(client);
            var id = Interlocked.Increment(ref nextLink);
            links[id] = link;
            link.Completion = Task.Run(async () =>
            {
                try
                {
                    await RunAsync(link);
                }
                finally
                {
                    link.Abort();
                    links.TryRemove(id, out _);
                }
            });
        }
    }

    private Task WhenOpen()
    {
        lock (gate)
        {
            return open.Task;
        }
    }

    private async Task RunAsync(Link link)
    {
        var token = disposed.Token;
        try
        {
            // A connection accepted during a black hole is connected onwards only once it heals (a late SYN-ACK).
            await WhenOpen().WaitAsync(token);
            var upstream = new Socket(SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
            if (!link.Attach(upstream))
            {
                return; // Reset while it was held.
            }

            await upstream.ConnectAsync(target, token);
        }
        catch (Exception ex) when (ex is SocketException or ObjectDisposedException or OperationCanceledException)
        {
            return; // The target is down (or the proxy is closing): the client is reset.
        }

        var toTarget = PumpAsync(link, link.Client, link.Upstream!, towardsTarget: true, token);
        var toClient = PumpAsync(link, link.Upstream!, link.Client, towardsTarget: false, token);
        await Task.WhenAll(toTarget, toClient);
        link.Close();
    }

    private async Task PumpAsync(Link link, Socket from, Socket to, bool towardsTarget, CancellationToken token)
    {
        var buffer = new byte[64 * 1024];
        try
        {
            while (true)
            {
                var read = await from.ReceiveAsync(buffer, SocketFlags.None, token);

                // Held here while black-holed: this chunk waits, and nothing more is read until the partition heals.
                await WhenOpen().WaitAsync(token);
                if (read == 0)
                {
                    to.Shutdown(SocketShutdown.Send);
                    return;
                }

                var sent = 0;
                while (sent < read)
                {
                    sent += await to.SendAsync(buffer.AsMemory(sent, read - sent), SocketFlags.None, token);
                }

                if (towardsTarget)
                {
                    Interlocked.Add(ref bytesToTarget, read);
                }
                else
                {
                    Interlocked.Add(ref bytesToClient, read);
                }
            }
        }
        catch (Exception ex) when (ex is SocketException or ObjectDisposedException or OperationCanceledException)
        {
            // One side was reset or closed under us: reset the other side too, as a router between them would not.
            link.Abort();
        }
    }

    /// <summary>One client connection and, once connected, its connection to the target.</summary>
    private sealed class Link(Socket client)
    {
        private int closed;
        private Socket? upstream;

        public Socket Client { get; } = client;

        public Socket? Upstream => Volatile.Read(ref upstream);

        public Task Completion { get; set; } = Task.CompletedTask;

        /// <summary>Adopts the target side; false (and the socket disposed) when the link was already aborted.</summary>
        public bool Attach(Socket socket)
        {
            Interlocked.Exchange(ref upstream, socket);
            if (Volatile.Read(ref closed) == 1)
            {
                socket.Dispose();
                return false;
            }

            return true;
        }

        /// <summary>Closes both sides with a RST (linger 0).</summary>
        public void Abort()
        {
            if (Interlocked.Exchange(ref closed, 1) == 1)
            {
                return;
            }

            foreach (var socket in new[] { Client, Upstream })
            {
                if (socket is null)
                {
                    continue;
                }

                try
                {
                    socket.LingerState = new LingerOption(true, 0);
                }
                catch (Exception ex) when (ex is SocketException or ObjectDisposedException)
                {
                }

                socket.Dispose();
            }
        }

        /// <summary>Both directions ended with a FIN: close both sides normally.</summary>
        public void Close()
        {
            if (Interlocked.Exchange(ref closed, 1) == 1)
            {
                return;
            }

            Client.Dispose();
            Upstream?.Dispose();
        }
    }
}
