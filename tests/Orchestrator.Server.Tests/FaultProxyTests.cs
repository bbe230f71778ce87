using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Text;
using Npgsql;
using Orchestrator.Server.Tests.Infrastructure;

namespace Orchestrator.Server.Tests;

/// <summary>The fault drills' proxy, over real sockets: an echo server behind it, and the shared PostgreSQL.</summary>
public sealed class FaultProxyTests : IAsyncLifetime
{
    private static readonly TimeSpan Silence = TimeSpan.FromSeconds(1);
    private EchoServer echo = null!;
    private FaultProxy proxy = null!;

    public async Task InitializeAsync()
    {
        echo = EchoServer.Start();
        proxy = await FaultProxy.StartAsync("127.0.0.1", echo.Port);
    }

    public async Task DisposeAsync()
    {
        await proxy.DisposeAsync();
        echo.Dispose();
    }

    [Fact]
    public async Task In_Pass_bytes_go_both_ways_and_are_counted()
    {
        using var client = await ConnectAsync(proxy.Port);
        var payload = RandomBytes(200_000);

        var sending = client.SendAsync(payload, SocketFlags.None);
        var echoed = await ReceiveExactlyAsync(client, payload.Length);
        await sending;

        Assert.Equal(payload, echoed);
        await EventuallyAsync(() => proxy.BytesToClient == payload.Length);
        Assert.Equal(1, proxy.ConnectionsAccepted);
        Assert.Equal(1, echo.ConnectionsAccepted);
        Assert.Equal(payload.Length, proxy.BytesToTarget);
        Assert.Equal(payload.Length, proxy.BytesToClient);
        Assert.Equal(FaultMode.Pass, proxy.Mode);
    }

    [Fact]
    public async Task A_black_hole_holds_the_bytes_of_an_open_connection_without_closing_it_and_delivers_them_late_on_Pass()
    {
        using var client = await ConnectAsync(proxy.Port);
        await RoundTripAsync(client, "before");

        proxy.BlackHole();
        await client.SendAsync(Encoding.ASCII.GetBytes("during"), SocketFlags.None);
        var buffer = new byte[64];
        var receiving = client.ReceiveAsync(buffer, SocketFlags.None);
        await Task.WhenAny(receiving, Task.Delay(Silence));

        Assert.False(receiving.IsCompleted, "a byte (or a close) came through the black hole");
        Assert.Equal("before".Length, proxy.BytesToTarget);
        Assert.Equal(1, proxy.OpenConnections);

        proxy.Pass();
        var read = await receiving.WaitAsync(TimeSpan.FromSeconds(5));
        Assert.Equal("during", Encoding.ASCII.GetString(buffer, 0, read));
        await RoundTripAsync(client, "after");
    }

    [Fact]
    public async Task A_black_hole_accepts_new_connections_but_connects_them_onwards_only_on_Pass()
    {
        proxy.BlackHole();
        using var client = await ConnectAsync(proxy.Port);
        await client.SendAsync(Encoding.ASCII.GetBytes("hello"), SocketFlags.None);
        var buffer = new byte[64];
        var receiving = client.ReceiveAsync(buffer, SocketFlags.None);
        await Task.WhenAny(receiving, Task.Delay(Silence));

        Assert.False(receiving.IsCompleted, "a byte (or a close) came through the black hole");
        Assert.Equal(1, proxy.ConnectionsAccepted);
        Assert.Equal(0, echo.ConnectionsAccepted);

        proxy.Pass();
        var read = await receiving.WaitAsync(TimeSpan.FromSeconds(5));
        Assert.Equal("hello", Encoding.ASCII.GetString(buffer, 0, read));
        Assert.Equal(1, echo.ConnectionsAccepted);
    }

    [Fact]
    public async Task Reset_resets_every_open_connection_at_once_and_new_ones_are_forwarded()
    {
        using var first = await ConnectAsync(proxy.Port);
        using var second = await ConnectAsync(proxy.Port);
        await RoundTripAsync(first, "one");
        await RoundTripAsync(second, "two");

        proxy.Reset();

        foreach (var client in new[] { first, second })
        {
            var error = await Assert.ThrowsAsync<SocketException>(async () =>
            {
                await client.ReceiveAsync(new byte[16], SocketFlags.None).WaitAsync(TimeSpan.FromSeconds(5));
            });
            Assert.Equal(SocketError.ConnectionReset, error.SocketErrorCode);
        }

        await echo.WaitForOpenAsync(0);
        using var third = await ConnectAsync(proxy.Port);
        await RoundTripAsync(third, "three");
        Assert.Equal(3, proxy.ConnectionsAccepted);
    }

    [Fact]
    public async Task Refuse_refuses_connects_and_Pass_listens_again_on_the_same_port()
    {
        using var open = await ConnectAsync(proxy.Port);
        var port = proxy.Port;

        proxy.Refuse();

        var error = await Assert.ThrowsAsync<SocketException>(() => ConnectAsync(port));
        Assert.Equal(SocketError.ConnectionRefused, error.SocketErrorCode);
        await RoundTripAsync(open, "still open");

        proxy.Pass();

        Assert.Equal(port, proxy.Port);
        using var again = await ConnectAsync(port);
        await RoundTripAsync(again, "listening again");
    }

    [Fact]
    public async Task A_query_through_the_proxy_reaches_PostgreSQL()
    {
        await using var postgres = await FaultProxy.StartForNpgsqlAsync(TestEnvironment.PostgresAdmin);
        await using var connection = new NpgsqlConnection(postgres.ForNpgsql(Unpooled(TestEnvironment.PostgresAdmin)));
        await connection.OpenAsync();

        Assert.Equal(42, await ScalarAsync(connection, "SELECT 42"));
        Assert.Equal(1, postgres.ConnectionsAccepted);
        Assert.True(postgres.BytesToTarget > 0 && postgres.BytesToClient > 0);
    }

    [Fact]
    public async Task A_black_holed_query_times_out_after_its_command_timeout_and_after_Pass_a_new_connection_works()
    {
        await using var postgres = await FaultProxy.StartForNpgsqlAsync(TestEnvironment.PostgresAdmin);
        // After its command timeout Npgsql tries to cancel over a new connection, which the black hole holds too:
        // that costs up to twice the connection Timeout more, so Timeout is kept short here.
        var connectionString = postgres.ForNpgsql(Unpooled(TestEnvironment.PostgresAdmin, timeout: 2));
        await using var connection = new NpgsqlConnection(connectionString);
        await connection.OpenAsync();
        Assert.Equal(1, await ScalarAsync(connection, "SELECT 1"));

        postgres.BlackHole();
        var clock = Stopwatch.StartNew();
        var error = await Assert.ThrowsAsync<NpgsqlException>(() => ScalarAsync(connection, "SELECT 2", commandTimeout: 2));
        clock.Stop();

        Assert.IsType<TimeoutException>(error.InnerException);
        Assert.True(clock.Elapsed >= TimeSpan.FromSeconds(1.9), $"the query failed after {clock.Elapsed.TotalSeconds:0.0} s, before its 2 s timeout");
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(10), $"the query hung {clock.Elapsed.TotalSeconds:0.0} s");

        postgres.Pass();
        await using var fresh = new NpgsqlConnection(connectionString);
        await fresh.OpenAsync();
        Assert.Equal(3, await ScalarAsync(fresh, "SELECT 3"));
    }

    [Fact]
    public async Task Reset_makes_an_open_PostgreSQL_connection_fail_at_once_with_an_IO_error()
    {
        await using var postgres = await FaultProxy.StartForNpgsqlAsync(TestEnvironment.PostgresAdmin);
        await using var connection = new NpgsqlConnection(postgres.ForNpgsql(Unpooled(TestEnvironment.PostgresAdmin)));
        await connection.OpenAsync();
        Assert.Equal(1, await ScalarAsync(connection, "SELECT 1"));

        postgres.Reset();
        var clock = Stopwatch.StartNew();
        var error = await Assert.ThrowsAsync<NpgsqlException>(() => ScalarAsync(connection, "SELECT 2", commandTimeout: 30));

        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(2), $"the reset was noticed after {clock.Elapsed.TotalSeconds:0.0} s");
        Assert.IsAssignableFrom<IOException>(error.InnerException);
        Assert.True(error.IsTransient);
        Assert.Equal(System.Data.ConnectionState.Closed, connection.State);
    }

    /// <summary>The proxy counts a chunk just after writing it, so the reader may see it a moment earlier.</summary>
    private static async Task EventuallyAsync(Func<bool> condition)
    {
        var deadline = DateTimeOffset.UtcNow + TimeSpan.FromSeconds(5);
        while (!condition() && DateTimeOffset.UtcNow < deadline)
        {
            await Task.Delay(10);
        }
    }

    private static string Unpooled(string connectionString, int timeout = 5) =>
        new NpgsqlConnectionStringBuilder(connectionString) { Pooling = false, Timeout = timeout }.ConnectionString;

    private static async Task<int> ScalarAsync(NpgsqlConnection connection, string sql, int commandTimeout = 10)
    {
        await using var command = new NpgsqlCommand(sql, connection) { CommandTimeout = commandTimeout };
        return (int)(await command.ExecuteScalarAsync())!;
    }

    private static async Task<Socket> ConnectAsync(int port)
    {
        var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        try
        {
            await socket.ConnectAsync(IPAddress.Loopback, port).WaitAsync(TimeSpan.FromSeconds(5));
            return socket;
        }
        catch
        {
            socket.Dispose();
            throw;
        }
    }

    private static async Task RoundTripAsync(Socket client, string text)
    {
        var bytes = Encoding.ASCII.GetBytes(text);
        await client.SendAsync(bytes, SocketFlags.None);
        Assert.Equal(text, Encoding.ASCII.GetString(await ReceiveExactlyAsync(client, bytes.Length)));
    }

    private static async Task<byte[]> ReceiveExactlyAsync(Socket client, int length)
    {
        var buffer = new byte[length];
        var received = 0;
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        while (received < length)
        {
            var read = await client.ReceiveAsync(buffer.AsMemory(received), SocketFlags.None, timeout.Token);
            Assert.True(read > 0, $"the connection closed after {received} of {length} bytes");
            received += read;
        }

        return buffer;
    }

    private static byte[] RandomBytes(int length)
    {
        var bytes = new byte[length];
        new Random(7).NextBytes(bytes);
        return bytes;
    }

    /// <summary>A TCP server that writes back whatever it reads, and counts the connections it accepted.</summary>
    private sealed class EchoServer : IDisposable
    {
        private readonly TcpListener listener = new(IPAddress.Loopback, 0);
        private readonly CancellationTokenSource stop = new();
        private long accepted;
        private int open;

        private EchoServer()
        {
        }

        public int Port => ((IPEndPoint)listener.LocalEndpoint).Port;

        public long ConnectionsAccepted => Interlocked.Read(ref accepted);

        public static EchoServer Start()
        {
            var server = new EchoServer();
            server.listener.Start();
            _ = server.AcceptAsync();
            return server;
        }

        /// <summary>Waits until only <paramref name="count"/> of its connections are still open.</summary>
        public async Task WaitForOpenAsync(int count)
        {
            var deadline = DateTimeOffset.UtcNow + TimeSpan.FromSeconds(5);
            while (Volatile.Read(ref open) != count)
            {
                Assert.True(DateTimeOffset.UtcNow < deadline, $"the echo server still has {Volatile.Read(ref open)} connections open");
                await Task.Delay(20);
            }
        }

        public void Dispose()
        {
            stop.Cancel();
            listener.Stop();
            stop.Dispose();
        }

        private async Task AcceptAsync()
        {
            while (!stop.IsCancellationRequested)
            {
                Socket socket;
                try
                {
                    socket = await listener.AcceptSocketAsync(stop.Token);
                }
                catch (Exception ex) when (ex is SocketException or ObjectDisposedException or OperationCanceledException)
                {
                    return;
                }

                Interlocked.Increment(ref accepted);
                Interlocked.Increment(ref open);
                _ = EchoAsync(socket);
            }
        }

        private async Task EchoAsync(Socket socket)
        {
            using (socket)
            {
                var buffer = new byte[16 * 1024];
                try
                {
                    int read;
                    while ((read = await socket.ReceiveAsync(buffer, SocketFlags.None, stop.Token)) > 0)
                    {
                        await socket.SendAsync(buffer.AsMemory(0, read), SocketFlags.None, stop.Token);
                    }
                }
                catch (Exception ex) when (ex is SocketException or ObjectDisposedException or OperationCanceledException)
                {
                }
                finally
                {
                    Interlocked.Decrement(ref open);
                }
            }
        }
    }
}
