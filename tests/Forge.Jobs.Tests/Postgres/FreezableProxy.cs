using System.Net;
using System.Net.Sockets;

namespace Forge.Jobs.Tests.Postgres;

/// <summary>A TCP proxy in front of PostgreSQL that can silently stop forwarding on the connections it holds, without
/// closing them: what a node sees when a network path dies without a reset (NAT or firewall idle timeout, a failover
/// that moves the server's address, a pulled cable). Connections opened after a freeze are forwarded again, unless the
/// proxy is frozen for new connections too.</summary>
internal sealed class FreezableProxy : IAsyncDisposable
{
    private readonly TcpListener _listener = new(IPAddress.Loopback, 0);
    private readonly string _host;
    private readonly int _port;
    private readonly CancellationTokenSource _stopping = new();
    private readonly List<Link> _links = [];
    private readonly Lock _lock = new();
    private readonly Task _accepting;
    private int _accepted;

    public FreezableProxy(string host, int port)
    {
        _host = host;
        _port = port;
        _listener.Start();
        _accepting = AcceptAsync();
    }

    public int Port => ((IPEndPoint)_listener.LocalEndpoint).Port;

    /// <summary>How many connections the proxy has accepted.</summary>
    public int Accepted => Volatile.Read(ref _accepted);

    /// <summary>New connections are accepted but nothing is forwarded on them.</summary>
    public bool FreezeNewConnections { get; set; }

    /// <summary>Stops forwarding on every connection opened so far, leaving the sockets open.</summary>
    public void FreezeExisting()
    {
        lock (_lock)
        {
            foreach (var link in _links)
            {
                link.Frozen = true;
            }
        }
    }

    /// <summary>Keeps forwarding requests on every connection opened so far but swallows the server's answers: a request
    /// that the server executes and commits, whose response never arrives.</summary>
    public void FreezeResponses()
    {
        lock (_lock)
        {
            foreach (var link in _links)
            {
                link.ResponsesFrozen = true;
            }
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _stopping.CancelAsync();
        _listener.Stop();
        lock (_lock)
        {
            foreach (var link in _links)
            {
                link.Dispose();
            }
        }

        try
        {
            await _accepting;
        }
        catch (Exception exception) when (exception is OperationCanceledException or SocketException or ObjectDisposedException)
        {
        }

        _stopping.Dispose();
    }

    private async Task AcceptAsync()
    {
        while (!_stopping.IsCancellationRequested)
        {
            var client = await _listener.AcceptTcpClientAsync(_stopping.Token);
            Interlocked.Increment(ref _accepted);
            var link = new Link(client, new TcpClient()) { Frozen = FreezeNewConnections };
            lock (_lock)
            {
                _links.Add(link);
            }

            await link.Server.ConnectAsync(_host, _port, _stopping.Token);
            _ = PumpAsync(link, link.Client.GetStream(), link.Server.GetStream(), toClient: false);
            _ = PumpAsync(link, link.Server.GetStream(), link.Client.GetStream(), toClient: true);
        }
    }

    private async Task PumpAsync(Link link, NetworkStream from, NetworkStream to, bool toClient)
    {
        var buffer = new byte[16 * 1024];
        try
        {
            while (true)
            {
                var read = await from.ReadAsync(buffer, _stopping.Token);
                if (read == 0)
                {
                    link.Dispose();
                    return;
                }

                while (link.Frozen || (toClient && link.ResponsesFrozen))
                {
                    // Swallow what arrives from now on: the path is dead, but neither end is told.
                    await Task.Delay(50, _stopping.Token);
                    read = 0;
                }

                if (read > 0)
                {
                    await to.WriteAsync(buffer.AsMemory(0, read), _stopping.Token);
                }
            }
        }
        catch (Exception exception) when (exception is IOException or OperationCanceledException or ObjectDisposedException or SocketException)
        {
            link.Dispose();
        }
    }

    private sealed class Link(TcpClient client, TcpClient server) : IDisposable
    {
        public TcpClient Client { get; } = client;

        public TcpClient Server { get; } = server;

        public volatile bool Frozen;

        public volatile bool ResponsesFrozen;

        public void Dispose()
        {
            Client.Dispose();
            Server.Dispose();
        }
    }
}
