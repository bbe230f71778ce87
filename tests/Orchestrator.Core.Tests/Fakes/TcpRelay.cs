using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;

namespace Orchestrator.Core.Tests.Fakes;

/// <summary>
/// A loopback port that forwards to PostgreSQL and can be cut (connections reset, new ones refused) and restored, or
/// stalled (connections stay open, nothing gets through: a database that stops answering) and resumed.
/// </summary>
public sealed class TcpRelay : IAsyncDisposable
{
    private readonly int target;
    private readonly ConcurrentDictionary<Socket, bool> sockets = new();
    private TcpListener listener;
    private CancellationTokenSource stop = new();
    private volatile bool stalled;

    public TcpRelay(int targetPort)
    {
        target = targetPort;
        listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        Port = ((IPEndPoint)listener.LocalEndpoint).Port;
        _ = AcceptAsync(listener, stop.Token);
    }

    public int Port { get; }

    /// <summary>Resets every relayed connection and refuses new ones, as a stopped database does.</summary>
    public void Cut()
    {
        stop.Cancel();
        listener.Stop();
        foreach (var socket in sockets.Keys)
        {
            socket.Close(0);
        }
    }

    /// <summary>Holds every byte in either direction, on open and new connections alike, until <see cref="Resume"/>.</summary>
    public void Stall() => stalled = true;

    public void Resume() => stalled = false;

    public void Restore()
    {
        stop = new CancellationTokenSource();
        listener = new TcpListener(IPAddress.Loopback, Port);
        listener.Start();
        _ = AcceptAsync(listener, stop.Token);
    }

    public ValueTask DisposeAsync()
    {
        Cut();
        return ValueTask.CompletedTask;
    }

    private async Task AcceptAsync(TcpListener accepting, CancellationToken cancellationToken)
    {
        while (!cancellationToken.IsCancellationRequested)
        {
            Socket client;
            try
            {
                client = await accepting.AcceptSocketAsync(cancellationToken);
            }
            catch (Exception ex) when (ex is SocketException or ObjectDisposedException or OperationCanceledException)
            {
                return;
            }

            var server = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
            try
            {
                await server.ConnectAsync(IPAddress.Loopback, target, cancellationToken);
            }
            catch (Exception ex) when (ex is SocketException or OperationCanceledException)
            {
                client.Close(0);
                server.Dispose();
                continue;
            }

            sockets[client] = true;
            sockets[server] = true;
            _ = PipeAsync(client, server);
            _ = PipeAsync(server, client);
        }
    }

    private async Task PipeAsync(Socket from, Socket to)
    {
        var buffer = new byte[16 * 1024];
        try
        {
            int read;
            while ((read = await from.ReceiveAsync(buffer, SocketFlags.None)) > 0)
            {
                while (stalled)
                {
                    await Task.Delay(20);
                }

                await to.SendAsync(buffer.AsMemory(0, read), SocketFlags.None);
            }
        }
        catch (Exception ex) when (ex is SocketException or ObjectDisposedException)
        {
        }
        finally
        {
            sockets.TryRemove(from, out _);
            sockets.TryRemove(to, out _);
            from.Close(0);
            to.Close(0);
        }
    }
}
