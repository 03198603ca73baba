using Forge.Jobs.Diagnostics;
using Forge.Jobs.Leadership;
using Forge.Jobs.Processing;
using Forge.Jobs.Retry;
using Forge.Jobs.Storage;
using Microsoft.Extensions.Logging;

namespace Forge.Jobs.Maintenance;

/// <summary>On the leader only, finds running jobs whose lease expired (their node died, hung or lost the database) and fails that
/// attempt through the normal retry rules. The completion is fenced on the expired lease itself, so a node that
/// renews or completes at the last moment wins, and two rescuers never rescue one attempt twice.</summary>
internal sealed class JobRescuer(
    IJobStore store, RetryPolicy retryPolicy, LeaderElection leadership, ForgeJobsMetrics metrics, ForgeJobsOptions options, TimeProvider time, ILogger logger)
{
    private const int BatchSize = 500;

    public Task RunAsync(CancellationToken stoppingToken) =>
        Periodic.RunAsync(options.RescueInterval, time, ct => leadership.IsLeader ? RescueAllAsync(ct) : Task.CompletedTask, stoppingToken);

    private async Task RescueAllAsync(CancellationToken cancellationToken)
    {
        try
        {
            while (await RescueAsync(cancellationToken).ConfigureAwait(false) == BatchSize)
            {
            }
        }
        catch (Exception exception) when (!cancellationToken.IsCancellationRequested)
        {
            Log.RescueFailed(logger, exception);
        }
    }

    /// <returns>How many expired leases were found.</returns>
    public async Task<int> RescueAsync(CancellationToken cancellationToken)
    {
        var expired = await store.ListExpiredLeasesAsync(BatchSize, cancellationToken).ConfigureAwait(false);
        if (expired.Count == 0)
        {
            return 0;
        }

        var completions = new List<Completion>(expired.Count);
        foreach (var lease in expired)
        {
            completions.Add(retryPolicy.Fail(
                lease.Id, lease.LeaseOwner, lease.Attempt, lease.Failures, lease.MaxRetries, lease.Type, lease.Queue, lease.Backoff,
                $"LeaseExpiredException: node {lease.LeaseOwner} stopped renewing the lease of attempt {lease.Attempt} (it died, hung or lost the database).",
                rescue: true));
        }

        var refused = await store.CompleteManyAsync(completions, cancellationToken).ConfigureAwait(false);
        if (completions.Count > refused.Count)
        {
            Log.JobsRescued(logger, completions.Count - refused.Count);
            foreach (var lease in expired)
            {
                if (!refused.Any(r => r.Id == lease.Id))
                {
                    metrics.Rescued(lease.Queue, lease.Type);
                }
            }
        }

        return expired.Count;
    }
}
