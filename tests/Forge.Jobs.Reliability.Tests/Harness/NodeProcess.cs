using System.Diagnostics;
using System.Globalization;
using System.Runtime.InteropServices;
using System.Text;
using System.Net;
using System.Net.Sockets;
using Forge.Jobs.Processing;

namespace Forge.Jobs.Reliability.Tests.Harness;

/// <summary>One node of a scenario, in a process of its own (Forge.Jobs.Reliability.Host), which the test can kill,
/// freeze, thaw, stop and ask what it holds.</summary>
internal sealed partial class NodeProcess : IAsyncDisposable
{
    private const int SigKill = 9;
    private const int SigTerm = 15;
    private const int SigCont = 18;
    private const int SigStop = 19;

    private readonly Process _process;
    private readonly StringBuilder _output = new();
    private readonly TaskCompletionSource _ready = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private int _controlPort;

    private NodeProcess(NodeSettings settings, Process process)
    {
        Settings = settings;
        _process = process;
    }

    public NodeSettings Settings { get; }

    public string NodeId => Settings.NodeId;

    /// <summary>The operating system's id of the node's process, for reading <c>/proc/{pid}</c>.</summary>
    public int Pid => _process.Id;

    public bool HasExited => _process.HasExited;

    public int ExitCode => _process.ExitCode;

    public string Output
    {
        get
        {
            lock (_output)
            {
                return _output.ToString();
            }
        }
    }

    /// <summary>Starts the process without waiting for the node to be ready (see <see cref="Ready"/>).</summary>
    public static NodeProcess Launch(NodeSettings settings)
    {
        var start = new ProcessStartInfo("dotnet")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        start.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, "Forge.Jobs.Reliability.Host.dll"));
        start.ArgumentList.Add(settings.ToJson());
        if (settings.GcHeapHardLimitBytes is { } limit)
        {
            start.Environment["DOTNET_GCHeapHardLimit"] = limit.ToString("X", CultureInfo.InvariantCulture);
        }

        var node = new NodeProcess(settings, Process.Start(start) ?? throw new InvalidOperationException("Could not start the node host."));
        node._process.OutputDataReceived += (_, e) => node.Record(e.Data);
        node._process.ErrorDataReceived += (_, e) => node.Record(e.Data);
        node._process.BeginOutputReadLine();
        node._process.BeginErrorReadLine();
        return node;
    }

    public static async Task<NodeProcess> StartAsync(NodeSettings settings)
    {
        var node = Launch(settings);
        await node.Ready;
        return node;
    }

    /// <summary>Completes when the node prints "ready {control port}"; fails when the process exits first or takes five minutes (ten nodes starting at once on an empty schema on a loaded two-core machine have taken nearly two).</summary>
    public Task Ready => ReadyAsync();

    /// <summary>Asks the node, over its loopback control port, what it holds.</summary>
    public async Task<NodeLoad> LoadAsync()
    {
        using var client = new TcpClient();
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        await client.ConnectAsync(IPAddress.Loopback, _controlPort, timeout.Token);
        using var reader = new StreamReader(client.GetStream());
        var line = await reader.ReadLineAsync(timeout.Token)
            ?? throw new InvalidOperationException($"Node {NodeId} closed its control connection without reporting its load. Its output:\n{Output}");
        var parts = line.Split(' ');
        return new NodeLoad(int.Parse(parts[0], CultureInfo.InvariantCulture), int.Parse(parts[1], CultureInfo.InvariantCulture), int.Parse(parts[2], CultureInfo.InvariantCulture));
    }

    /// <summary>SIGKILL: the process dies at once, holding whatever leases it had.</summary>
    public async Task KillAsync()
    {
        Signal(SigKill);
        await _process.WaitForExitAsync();
    }

    /// <summary>SIGSTOP: the process freezes, threads, timers and sockets included, until <see cref="Thaw"/>.</summary>
    public void Freeze() => Signal(SigStop);

    /// <summary>SIGCONT.</summary>
    public void Thaw() => Signal(SigCont);

    /// <summary>SIGTERM: the host shuts the node down gracefully.</summary>
    public void Terminate() => Signal(SigTerm);

    public Task WaitForExitAsync(TimeSpan limit) => _process.WaitForExitAsync().WaitAsync(limit);

    public async Task StopAsync()
    {
        if (!_process.HasExited)
        {
            Terminate();
        }

        await WaitForExitAsync(TimeSpan.FromSeconds(90));
    }

    public async ValueTask DisposeAsync()
    {
        if (!_process.HasExited)
        {
            Signal(SigCont);
            _process.Kill();
            await _process.WaitForExitAsync();
        }

        _process.Dispose();
    }

    private async Task ReadyAsync()
    {
        var exited = _process.WaitForExitAsync();
        if (await Task.WhenAny(_ready.Task, exited, Task.Delay(TimeSpan.FromMinutes(5))) != _ready.Task)
        {
            throw new InvalidOperationException($"Node {NodeId} did not start:\n{Output}");
        }
    }

    private void Signal(int signal)
    {
        if (!_process.HasExited && SendSignal(_process.Id, signal) != 0)
        {
            throw new InvalidOperationException($"Could not send signal {signal} to node {NodeId} (pid {_process.Id}): errno {Marshal.GetLastPInvokeError()}.");
        }
    }

    private void Record(string? line)
    {
        if (line is null)
        {
            return;
        }

        lock (_output)
        {
            _output.Append(CultureInfo.InvariantCulture, $"{DateTime.UtcNow:HH:mm:ss.fff} ").AppendLine(line);
        }

        if (line.StartsWith("ready ", StringComparison.Ordinal))
        {
            _controlPort = int.Parse(line.AsSpan(6), CultureInfo.InvariantCulture);
            _ready.TrySetResult();
        }
    }

    [LibraryImport("libc", EntryPoint = "kill", SetLastError = true)]
    private static partial int SendSignal(int pid, int signal);
}
