using Forge.Jobs.Storage;
using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace Forge.Jobs.Diagnostics.Health;

/// <summary>Healthy when a node of the cluster holds the leadership; degraded when none does, since cron schedules,
/// rescues of expired leases and pruning wait for a leader (jobs still run).</summary>
internal sealed class LeaderHealthCheck(IJobStore store) : IHealthCheck
{
    public async Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        var nodes = await store.ListNodesAsync(cancellationToken).ConfigureAwait(false);
        return nodes.FirstOrDefault(n => n.IsLeader) is { } leader
            ? HealthCheckResult.Healthy($"Node {leader.Id} leads the cluster.")
            : HealthCheckResult.Degraded("No node leads the cluster: cron schedules, rescues of expired leases and pruning wait until one does.");
    }
}
