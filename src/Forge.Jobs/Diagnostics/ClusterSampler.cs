using Forge.Jobs.Leadership;
using Forge.Jobs.Processing;
using Forge.Jobs.Storage;
using Microsoft.Extensions.Logging;

namespace Forge.Jobs.Diagnostics;

/// <summary>What the cluster looked like at one reading: each queue's jobs by state, and the nodes whose heartbeat is
/// younger than a lease.</summary>
internal sealed record ClusterSample(IReadOnlyList<QueueInfo> Queues, int LiveNodes);

/// <summary>On the leader only, every <see cref="ForgeJobsOptions.ClusterMetricsInterval"/>: reads the queues' depth by
/// state and the live nodes, which the meter's cluster gauges report until the next reading. One node reads, whatever
/// the number of nodes or scrapes, and the others report nothing, so a sum over nodes is the cluster's figure.</summary>
internal sealed class ClusterSampler(IJobStore store, LeaderElection leadership, ForgeJobsOptions options, TimeProvider time, ILogger logger)
{
    private volatile ClusterSample? _latest;

    /// <summary>The last reading while this node leads, else <see langword="null"/>.</summary>
    public ClusterSample? Latest => leadership.IsLeader ? _latest : null;

    public Task RunAsync(CancellationToken stoppingToken) =>
        Periodic.RunAsync(options.ClusterMetricsInterval, time, SampleAsync, stoppingToken);

    public async Task SampleAsync(CancellationToken cancellationToken)
    {
        if (!leadership.IsLeader)
        {
            _latest = null;
            return;
        }

        try
        {
            var queues = await store.ListQueuesAsync(cancellationToken).ConfigureAwait(false);
            var nodes = await store.ListNodesAsync(cancellationToken).ConfigureAwait(false);
            var now = await store.GetTimeAsync(cancellationToken).ConfigureAwait(false);
            _latest = new ClusterSample(queues, nodes.Count(n => n.HeartbeatAt > now - options.LeaseDuration));
        }
        catch (Exception exception) when (!cancellationToken.IsCancellationRequested)
        {
            _latest = null;
            Log.ClusterSampleFailed(logger, exception);
        }
    }
}
