using System.Diagnostics;

namespace Forge.Jobs.Tests.Cluster;

/// <summary>One node in a process of its own (Forge.Jobs.TestHost), which a test can stop, kill or freeze.</summary>
internal sealed class NodeProcess : IAsyncDisposable
{
    private readonly Process _process;
    private readonly TaskCompletionSource _ready = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly System.Text.StringBuilder _output = new();
    private readonly List<(string Prefix, TaskCompletionSource<string> Line)> _awaited = [];

    private NodeProcess(string nodeId, Process process)
    {
        NodeId = nodeId;
        _process = process;
    }

    public string NodeId { get; }

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

    /// <param name="trace">Whether the node prints a line per attempt span (see Forge.Jobs.TestHost's usage).</param>
    public static async Task<NodeProcess> StartAsync(string connectionString, string schema, string nodeId, int concurrency, int maxWorkMilliseconds, bool trace = false)
    {
        var host = Path.Combine(AppContext.BaseDirectory, "Forge.Jobs.TestHost.dll");
        var start = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var argument in (string[])[host, connectionString, schema, nodeId, concurrency.ToString(System.Globalization.CultureInfo.InvariantCulture), maxWorkMilliseconds.ToString(System.Globalization.CultureInfo.InvariantCulture), .. trace ? ["trace"] : Array.Empty<string>()])
        {
            start.ArgumentList.Add(argument);
        }

        var node = new NodeProcess(nodeId, Process.Start(start) ?? throw new InvalidOperationException("Could not start the test host."));
        node._process.OutputDataReceived += (_, e) => node.Record(e.Data, isReady: e.Data == "ready");
        node._process.ErrorDataReceived += (_, e) => node.Record(e.Data, isReady: false);
        node._process.BeginOutputReadLine();
        node._process.BeginErrorReadLine();
        var exited = node._process.WaitForExitAsync();
        if (await Task.WhenAny(node._ready.Task, exited, Task.Delay(TimeSpan.FromSeconds(60))) != node._ready.Task)
        {
            throw new InvalidOperationException($"Node {nodeId} did not start:\n{node.Output}");
        }

        return node;
    }

    /// <summary>The first line of output, past or future, that starts with <paramref name="prefix"/>.</summary>
    public Task<string> LineAsync(string prefix)
    {
        lock (_output)
        {
            var seen = _output.ToString().Split('\n').FirstOrDefault(line => line.StartsWith(prefix, StringComparison.Ordinal));
            if (seen is not null)
            {
                return Task.FromResult(seen.TrimEnd('\r'));
            }

            var line = new TaskCompletionSource<string>(TaskCreationOptions.RunContinuationsAsynchronously);
            _awaited.Add((prefix, line));
            return line.Task;
        }
    }

    /// <summary>SIGKILL: the process dies at once, holding whatever leases it had.</summary>
    public Task KillAsync()
    {
        _process.Kill();
        return _process.WaitForExitAsync();
    }

    /// <summary>SIGTERM: the host shuts the node down gracefully.</summary>
    public async Task StopAsync()
    {
        if (!_process.HasExited)
        {
            using var kill = Process.Start("kill", ["-TERM", _process.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)]);
            await kill.WaitForExitAsync();
        }

        await _process.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(60));
    }

    public async ValueTask DisposeAsync()
    {
        if (!_process.HasExited)
        {
            _process.Kill();
            await _process.WaitForExitAsync();
        }

        _process.Dispose();
    }

    private void Record(string? line, bool isReady)
    {
        if (line is null)
        {
            return;
        }

        lock (_output)
        {
            _output.AppendLine(line);
            foreach (var (prefix, awaited) in _awaited)
            {
                if (line.StartsWith(prefix, StringComparison.Ordinal))
                {
                    awaited.TrySetResult(line);
                }
            }
        }

        if (isReady)
        {
            _ready.TrySetResult();
        }
    }
}
