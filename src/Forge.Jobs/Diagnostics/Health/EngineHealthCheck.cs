using Forge.Jobs.Processing;
using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace Forge.Jobs.Diagnostics.Health;

/// <summary>Healthy while this process's node runs and claims jobs; degraded while it drains (it finishes what it holds
/// and takes nothing new); unhealthy before it starts and after it stops.</summary>
internal sealed class EngineHealthCheck(JobProcessor node) : IHealthCheck
{
    public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default) =>
        Task.FromResult(node switch
        {
            { IsRunning: true } => HealthCheckResult.Healthy($"Node {node.NodeId} is claiming and running jobs."),
            { IsDraining: true } => HealthCheckResult.Degraded($"Node {node.NodeId} is draining or stopping: it claims no new jobs."),
            _ => new HealthCheckResult(context.Registration.FailureStatus, $"Node {node.NodeId} is not running: the host has not started it, or it stopped."),
        });
}
