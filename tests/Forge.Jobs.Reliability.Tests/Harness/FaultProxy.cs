using System.Net;
using System.Net.Sockets;

namespace Forge.Jobs.Reliability.Tests.Harness;

/// <summary>A TCP proxy on loopback between nodes and PostgreSQL that injects network faults: a delay on every chunk,
/// a blackhole (bytes in both directions vanish while the sockets stay open, as on a half-open network), and resets.
/// Connections that lost bytes to a blackhole are reset when it heals, as TCP eventually would.</summary>
internal sealed class FaultProxy : IAsyncDisposable
{
    private readonly TcpListener _listener = new(IPAddress.Loopback, 0);
    private readonly IPEndPoint _target;
    private readonly CancellationTokenSource _stopping = new();
    private readonly Lock _lock = new();
    private readonly List<Link> _links = [];
    private readonly Task _accepting;
    private volatile bool _blackhole;
    private volatile bool _refuse;

    public FaultProxy(string host, int port)
    {
        _target = new IPEndPoint(IPAddress.Parse(host == "localhost" ? "127.0.0.1" : host), port);
        _listener.Start();
        _accepting = AcceptAsync();
    }

    public int Port => ((IPEndPoint)_listener.LocalEndpoint).Port;

    /// <summary>Added before each chunk is passed on, in both directions.</summary>
    public TimeSpan Delay { get; set; }

    /// <summary>Connections open through the proxy right now.</summary>
    public int OpenConnections
    {
        get
        {
            lock (_lock)
            {
                return _links.Count;
            }
        }
    }

    /// <summary>From now on, bytes in both directions are dropped and new connections hang unanswered.</summary>
    public void Blackhole() => _blackhole = true;

    /// <summary>Ends a blackhole (resetting the connections it damaged) and stops refusing connections.</summary>
    public void Heal()
    {
        _blackhole = false;
        _refuse = false;
        foreach (var link in Snapshot().Where(l => l.Damaged))
        {
            link.Reset();
        }
    }

    /// <summary>Resets every open connection (RST); with <paramref name="refuseNew"/>, refuses new ones until
    /// <see cref="Heal"/>.</summary>
    public void ResetAll(bool refuseNew = false)
    {
        _refuse = refuseNew;
        foreach (var link in Snapshot())
        {
            link.Reset();
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _stopping.CancelAsync();
        _listener.Stop();
        foreach (var link in Snapshot())
        {
            link.Reset();
        }

        await _accepting.ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        _stopping.Dispose();
    }

    private Link[] Snapshot()
    {
        lock (_lock)
        {
            return [.. _links];
        }
    }

    private async Task AcceptAsync()
    {
        while (!_stopping.IsCancellationRequested)
        {
            Socket client;
            try
            {
                client = await _listener.AcceptSocketAsync(_stopping.Token);
            }
            catch (Exception exception) when (exception is OperationCanceledException or SocketException or ObjectDisposedException)
            {
                return;
            }

            if (_refuse)
            {
                Link.Abort(client);
                continue;
            }

            _ = RunLinkAsync(client);
        }
    }

    private async Task RunLinkAsync(Socket client)
    {
        var server = new Socket(SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        client.NoDelay = true;
        var link = new Link(client, server);
        lock (_lock)
        {
            _links.Add(link);
        }

        try
        {
            await server.ConnectAsync(_target, _stopping.Token);
            await Task.WhenAny(PumpAsync(link, client, server), PumpAsync(link, server, client));
        }
        catch (Exception exception) when (exception is OperationCanceledException or SocketException or ObjectDisposedException)
        {
        }
        finally
        {
            link.Reset();
            lock (_lock)
            {
                _links.Remove(link);
            }
        }
    }

    private async Task PumpAsync(Link link, Socket from, Socket to)
    {
        var buffer = new byte[64 * 1024];
        try
        {
            while (true)
            {
                var read = await from.ReceiveAsync(buffer, SocketFlags.None, _stopping.Token);
                if (read == 0)
                {
                    return;
                }

                if (Delay > TimeSpan.Zero)
                {
                    await Task.Delay(Delay, _stopping.Token);
                }

                if (_blackhole || link.Damaged)
                {
                    link.Damaged = true;
                    continue;
                }

                await to.SendAsync(buffer.AsMemory(0, read), SocketFlags.None, _stopping.Token);
            }
        }
        catch (Exception exception) when (exception is OperationCanceledException or SocketException or ObjectDisposedException)
        {
        }
    }

    private sealed class Link(Socket client, Socket server)
    {
        public volatile bool Damaged;

        public static void Abort(Socket socket)
        {
            try
            {
                socket.LingerState = new LingerOption(true, 0);
                socket.Close();
            }
            catch (Exception exception) when (exception is SocketException or ObjectDisposedException)
            {
            }
        }

        public void Reset()
        {
            Abort(client);
            Abort(server);
        }
    }
}
