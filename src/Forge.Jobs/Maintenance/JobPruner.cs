using Forge.Jobs.Diagnostics;
using Forge.Jobs.Leadership;
using Forge.Jobs.Processing;
using Forge.Jobs.Storage;
using Microsoft.Extensions.Logging;

namespace Forge.Jobs.Maintenance;

/// <summary>On the leader only, deletes finished jobs past their retention once a minute, in batches of 1,000 so
/// that no transaction holds many row locks or bloats the table at once. Also forgets nodes silent for an hour.</summary>
internal sealed class JobPruner(IJobStore store, LeaderElection leadership, ForgeJobsOptions options, TimeProvider time, ILogger logger)
{
    private const int BatchSize = 1_000;
    private static readonly TimeSpan Interval = TimeSpan.FromMinutes(1);
    private static readonly TimeSpan SilentNodeAge = TimeSpan.FromHours(1);

    public Task RunAsync(CancellationToken stoppingToken) =>
        Periodic.RunAsync(Interval, time, ct => leadership.IsLeader ? PruneAsync(ct) : Task.CompletedTask, stoppingToken);

    public async Task PruneAsync(CancellationToken cancellationToken)
    {
        var total = 0;
        try
        {
            int deleted;
            do
            {
                deleted = await store.PruneAsync(options.SucceededRetention, options.FailedRetention, SilentNodeAge, BatchSize, cancellationToken).ConfigureAwait(false);
                total += deleted;
            }
            while (deleted == BatchSize);
        }
        catch (Exception exception) when (exception is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
        {
            Log.PruneFailed(logger, exception);
        }

        if (total > 0)
        {
            Log.Pruned(logger, total);
        }
    }
}
