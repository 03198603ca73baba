using Forge.Jobs.Diagnostics;
using Forge.Jobs.Storage;
using Microsoft.Extensions.Logging;

namespace Forge.Jobs.Processing;

/// <summary>Claims jobs for every queue of the node in one store call, up to the slots free right now, and
/// hands them to the queues' executors. It sleeps until a slot frees, the store hints at new jobs, or the poll
/// interval passes; a claim that filled every free slot loops at once, since more jobs are probably waiting.</summary>
internal sealed class JobFetcher(
    IJobStore store,
    IReadOnlyDictionary<string, QueueRunner> queues,
    Action<ClaimedJob> releaseUnstarted,
    ForgeJobsOptions options,
    TimeProvider time,
    ILogger logger)
{
    private static readonly TimeSpan MaxFailureDelay = TimeSpan.FromSeconds(30);

    public WakeSignal Wake { get; } = new();

    public async Task RunAsync(CancellationToken stoppingToken)
    {
        var limits = new List<QueueLimit>(queues.Count);
        var failures = 0;
        try
        {
            while (!stoppingToken.IsCancellationRequested)
            {
                limits.Clear();
                var requested = 0;
                foreach (var queue in queues.Values)
                {
                    var free = queue.Reserve();
                    if (free > 0)
                    {
                        limits.Add(new QueueLimit(queue.Name, free));
                        requested += free;
                    }
                }

                if (requested == 0)
                {
                    await Wake.WaitAsync(options.PollInterval, time, stoppingToken).ConfigureAwait(false);
                    continue;
                }

                IReadOnlyList<ClaimedJob> claimed;
                try
                {
                    // Not cancelled by the stop: a claim cut off after its commit would strand the jobs it took until
                    // their leases expire. The command timeout bounds it instead.
                    claimed = await store.ClaimAsync(new ClaimRequest(options.NodeId, options.LeaseDuration, limits), CancellationToken.None).ConfigureAwait(false);
                    failures = 0;
                }
                catch (Exception exception)
                {
                    ReturnUnused();
                    if (stoppingToken.IsCancellationRequested)
                    {
                        return;
                    }

                    var delay = TimeSpan.FromMilliseconds(Math.Min(MaxFailureDelay.TotalMilliseconds, 100 * Math.Pow(2, failures++)));
                    Log.ClaimFailed(logger, exception, delay);
                    await Task.Delay(delay, time, stoppingToken).ConfigureAwait(false);
                    continue;
                }

                foreach (var job in claimed)
                {
                    if (!queues[job.Queue].TryDispatch(job))
                    {
                        releaseUnstarted(job);
                    }
                }

                ReturnUnused();
                if (claimed.Count < requested)
                {
                    await Wake.WaitAsync(options.PollInterval, time, stoppingToken).ConfigureAwait(false);
                }
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
    }

    private void ReturnUnused()
    {
        foreach (var queue in queues.Values)
        {
            queue.ReturnUnused();
        }
    }
}
