using Forge.Jobs.Diagnostics;
using Forge.Jobs.Storage;
using Microsoft.Extensions.Logging;

namespace Forge.Jobs.Processing;

/// <summary>What a <see cref="JobContext"/> reaches back into: one instance per node.</summary>
internal sealed record AttemptServices(LeaseKeeper Leases, IJobStore Store, System.Text.Json.JsonSerializerOptions Serializer);

/// <summary>Extends the leases of every job running on this node in one store call per interval. A lease the
/// store no longer grants (the job was rescued elsewhere) or a job whose cancellation was asked for fires that
/// job's token. Renewing all leases together costs one round trip per interval, whatever the concurrency.</summary>
internal sealed class LeaseKeeper(
    IJobStore store,
    RunningJobs running,
    ForgeJobsOptions options,
    TimeProvider time,
    ILogger logger)
{
    public Task RunAsync(CancellationToken stoppingToken) =>
        Periodic.RunAsync(options.LeaseRenewInterval, time, RenewAsync, stoppingToken);

    public async Task RenewAsync(CancellationToken cancellationToken)
    {
        var leases = running.Leases();
        if (leases.Count == 0)
        {
            return;
        }

        try
        {
            var renewal = await store.ExtendLeasesAsync(options.NodeId, leases, options.LeaseDuration, cancellationToken).ConfigureAwait(false);
            if (renewal.Lost.Count + renewal.CancelRequested.Count == 0)
            {
                return;
            }

            var attempts = leases.ToDictionary(l => l.Id, l => l.Attempt);
            foreach (var id in renewal.Lost)
            {
                running.Stop(id, attempts[id], StopReason.LeaseLost);
            }

            foreach (var id in renewal.CancelRequested)
            {
                running.Stop(id, attempts[id], StopReason.Cancelled);
            }
        }
        catch (Exception exception) when (exception is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
        {
            Log.LeaseRenewalFailed(logger, exception, leases.Count);
        }
    }

    public async Task<bool> ExtendOneAsync(ClaimedJob job, CancellationToken cancellationToken)
    {
        var renewal = await store.ExtendLeasesAsync(
            options.NodeId, [new LeaseRef(job.Id, job.Attempt)], options.LeaseDuration, cancellationToken).ConfigureAwait(false);
        if (renewal.CancelRequested.Count > 0)
        {
            running.Stop(job.Id, job.Attempt, StopReason.Cancelled);
        }

        return renewal.Lost.Count == 0;
    }
}
