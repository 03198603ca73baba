using System.Diagnostics;
using System.Globalization;
using System.Runtime.InteropServices;

namespace Forge.Jobs.LoadTest;

/// <summary>A node process as the coordinator sees it: this same program in mode <c>node</c>; see <see cref="NodeProgram"/>.</summary>
internal sealed class NodeProcess : IAsyncDisposable
{
    private readonly Process _process;
    private readonly string _samplesPath = Path.Combine(Path.GetTempPath(), $"forge-load-{Guid.NewGuid():N}.samples");
    private readonly TaskCompletionSource _ready = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly TaskCompletionSource<string> _done = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly Task _reading;
    private long _started;

    private NodeProcess(int index, IReadOnlyList<string> arguments)
    {
        var start = new ProcessStartInfo(Environment.ProcessPath!)
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            UseShellExecute = false,
        };

        // Under `dotnet Forge.Jobs.LoadTest.dll` the process is the host; the program is then its first argument.
        if (Path.GetFileNameWithoutExtension(Environment.ProcessPath) == "dotnet")
        {
            start.ArgumentList.Add(typeof(NodeProcess).Assembly.Location);
        }

        start.ArgumentList.Add("node");
        foreach (var argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        start.ArgumentList.Add("--samples");
        start.ArgumentList.Add(_samplesPath);
        Index = index;
        _process = Process.Start(start) ?? throw new InvalidOperationException("Could not start a node process.");
        _reading = ReadAsync();
    }

    public int Index { get; }

    /// <summary>How many jobs this node's handlers have started, as last reported.</summary>
    public long Started => Interlocked.Read(ref _started);

    /// <param name="arguments">The target's node arguments and the run's (concurrency, capacity).</param>
    public static async Task<NodeProcess[]> StartAsync(int count, IReadOnlyList<string> arguments)
    {
        var nodes = Enumerable.Range(0, count).Select(i => new NodeProcess(i, arguments)).ToArray();
        await Task.WhenAll(nodes.Select(n => n._ready.Task.WaitAsync(TimeSpan.FromMinutes(2))));
        return nodes;
    }

    public Task GoAsync() => _process.StandardInput.WriteLineAsync("go");

    /// <summary>Stops the node's engine and collects what it measured.</summary>
    public async Task<NodeReport> StopAsync()
    {
        await _process.StandardInput.WriteLineAsync("stop");
        var done = await _done.Task.WaitAsync(TimeSpan.FromMinutes(2));
        await _process.WaitForExitAsync();
        var fields = done.Split(' ').Skip(1).Select(f => f.Split('=')).ToDictionary(f => f[0], f => f[1]);
        var samples = MemoryMarshal.Cast<byte, long>(await File.ReadAllBytesAsync(_samplesPath)).ToArray();
        File.Delete(_samplesPath);
        return new NodeReport(
            long.Parse(fields["started"], CultureInfo.InvariantCulture),
            double.Parse(fields["rss_mb"], CultureInfo.InvariantCulture),
            long.Parse(fields["allocated"], CultureInfo.InvariantCulture),
            samples);
    }

    public async ValueTask DisposeAsync()
    {
        if (!_process.HasExited)
        {
            _process.Kill();
            await _process.WaitForExitAsync();
        }

        await _reading;
        _process.Dispose();
        File.Delete(_samplesPath);
    }

    private async Task ReadAsync()
    {
        while (await _process.StandardOutput.ReadLineAsync() is { } line)
        {
            if (line == "ready")
            {
                _ready.TrySetResult();
            }
            else if (line.StartsWith("started ", StringComparison.Ordinal))
            {
                Interlocked.Exchange(ref _started, long.Parse(line.AsSpan(8), CultureInfo.InvariantCulture));
            }
            else if (line.StartsWith("done ", StringComparison.Ordinal))
            {
                _done.TrySetResult(line);
            }
            else
            {
                Console.WriteLine($"node {Index}: {line}");
            }
        }

        var ended = new InvalidOperationException($"Node process {Index} ended (exit code {(_process.HasExited ? _process.ExitCode : -1)}); its errors are above.");
        _ready.TrySetException(ended);
        _done.TrySetException(ended);
    }
}

/// <param name="Started">Jobs its handlers started.</param>
/// <param name="PeakRssMegabytes">Peak resident memory after the warm-up.</param>
/// <param name="AllocatedBytes">Managed bytes allocated from engine start to stop.</param>
/// <param name="Samples">Enqueue-to-start times of the timed jobs, in Stopwatch ticks.</param>
internal sealed record NodeReport(long Started, double PeakRssMegabytes, long AllocatedBytes, long[] Samples);
