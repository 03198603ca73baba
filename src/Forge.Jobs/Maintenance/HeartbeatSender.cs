using Forge.Jobs.Diagnostics;
using Forge.Jobs.Processing;
using Forge.Jobs.Storage;
using Microsoft.Extensions.Logging;

namespace Forge.Jobs.Maintenance;

/// <summary>Tells the store every <see cref="ForgeJobsOptions.LeaseRenewInterval"/> that this node is alive, which
/// queues it serves and whether it drains; the answer carries a drain request made through the store and the stored
/// settings of the node's queues, which it applies.</summary>
internal sealed class HeartbeatSender(
    IJobStore store,
    IReadOnlyList<string> queues,
    Func<bool> isDraining,
    Action onDrainRequested,
    QueueControl queueControl,
    ForgeJobsOptions options,
    TimeProvider time,
    ILogger logger)
{
    public Task RunAsync(CancellationToken stoppingToken) =>
        Periodic.RunAsync(options.LeaseRenewInterval, time, BeatAsync, stoppingToken);

    public Task BeatAsync(CancellationToken cancellationToken) => BeatAsync(starting: false, cancellationToken);

    /// <summary>The first beat, at start-up: registers the node afresh.</summary>
    public Task RegisterAsync(CancellationToken cancellationToken) => BeatAsync(starting: true, cancellationToken);

    private async Task BeatAsync(bool starting, CancellationToken cancellationToken)
    {
        try
        {
            var draining = isDraining();
            var version = queueControl.Version;
            var reply = await store.HeartbeatAsync(new NodeHeartbeat(options.NodeId, queues, draining, starting), cancellationToken).ConfigureAwait(false);
            queueControl.ApplyStored(version, reply.Queues);
            if (reply.DrainRequested && !draining)
            {
                Log.DrainRequested(logger, options.NodeId);
                onDrainRequested();
            }
        }
        catch (Exception exception) when (exception is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
        {
            Log.HeartbeatFailed(logger, exception, options.NodeId);
        }
    }
}
