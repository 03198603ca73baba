using System.Diagnostics;
using System.Globalization;

namespace Forge.Jobs.LoadTest;

/// <summary>The node processes of one run of one system.</summary>
internal sealed class Cluster : IAsyncDisposable
{
    private readonly NodeProcess[] _nodes;

    private Cluster(NodeProcess[] nodes) => _nodes = nodes;

    public long Started => _nodes.Sum(n => n.Started);

    /// <param name="capacity">How many latency samples each node keeps.</param>
    public static async Task<Cluster> StartAsync(ILoadTarget target, int nodes, int concurrency, int capacity)
    {
        string[] arguments =
        [
            .. target.NodeArguments,
            "--concurrency", concurrency.ToString(CultureInfo.InvariantCulture),
            "--capacity", capacity.ToString(CultureInfo.InvariantCulture),
        ];
        return new Cluster(await NodeProcess.StartAsync(nodes, arguments));
    }

    /// <summary>Starts every node's engine.</summary>
    public Task GoAsync() => Task.WhenAll(_nodes.Select(n => n.GoAsync()));

    /// <summary>Waits until the nodes' handlers have started <paramref name="count"/> jobs in all.</summary>
    public async Task WaitForStartedAsync(long count, TimeSpan timeout)
    {
        var waited = Stopwatch.StartNew();
        while (Started < count)
        {
            if (waited.Elapsed > timeout)
            {
                throw new TimeoutException($"Only {Started:N0} of {count:N0} jobs started within {timeout.TotalSeconds:N0} s.");
            }

            await Task.Delay(2);
        }
    }

    /// <summary>Stops every node and merges what they measured.</summary>
    public async Task<NodeReport> StopAsync()
    {
        var reports = await Task.WhenAll(_nodes.Select(n => n.StopAsync()));
        return new NodeReport(
            reports.Sum(r => r.Started),
            reports.Max(r => r.PeakRssMegabytes),
            reports.Sum(r => r.AllocatedBytes),
            [.. reports.SelectMany(r => r.Samples)]);
    }

    public async ValueTask DisposeAsync()
    {
        foreach (var node in _nodes)
        {
            await node.DisposeAsync();
        }
    }
}
