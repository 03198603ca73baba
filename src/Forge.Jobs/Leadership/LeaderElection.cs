using Forge.Jobs.Diagnostics;
using Forge.Jobs.Processing;
using Forge.Jobs.Storage;
using Microsoft.Extensions.Logging;

namespace Forge.Jobs.Leadership;

/// <summary>Keeps one node of the cluster the leader through a lease row in the store, renewed every
/// <see cref="ForgeJobsOptions.LeaseRenewInterval"/> and valid for <see cref="ForgeJobsOptions.LeaseDuration"/>.
/// Leadership gates work that needs doing once (rescue, pruning); each such step is also safe if two leaders
/// briefly overlap, so a node that cannot reach the store simply stops leading when its lease lapses.</summary>
internal sealed class LeaderElection(IJobStore store, ForgeJobsOptions options, TimeProvider time, ILogger logger)
{
    public const string LeaderLease = "leader";

    private DateTimeOffset _leadsUntil;

    /// <summary>Whether this node held the lease at its last renewal and that lease has not run out on this node's clock.</summary>
    public bool IsLeader => time.GetUtcNow() < _leadsUntil;

    /// <summary>Called when this node becomes the leader, so that work gated on leadership can start at once.</summary>
    public Action? Elected { get; init; }

    public Task RunAsync(CancellationToken stoppingToken) =>
        Periodic.RunAsync(options.LeaseRenewInterval, time, RenewAsync, stoppingToken);

    public async Task RenewAsync(CancellationToken cancellationToken)
    {
        var wasLeader = IsLeader;
        var asked = time.GetUtcNow();
        try
        {
            var leads = await store.TryLeadAsync(LeaderLease, options.NodeId, options.LeaseDuration, cancellationToken).ConfigureAwait(false);
            _leadsUntil = leads ? asked + options.LeaseDuration : DateTimeOffset.MinValue;
        }
        catch (Exception exception) when (exception is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
        {
            Log.LeadershipRenewalFailed(logger, exception);
        }

        if (IsLeader != wasLeader)
        {
            Log.LeadershipChanged(logger, options.NodeId, IsLeader);
            if (IsLeader)
            {
                Elected?.Invoke();
            }
        }
    }

    public async Task ResignAsync(CancellationToken cancellationToken)
    {
        if (_leadsUntil == DateTimeOffset.MinValue)
        {
            return;
        }

        _leadsUntil = DateTimeOffset.MinValue;
        await store.ResignAsync(LeaderLease, options.NodeId, cancellationToken).ConfigureAwait(false);
    }
}
