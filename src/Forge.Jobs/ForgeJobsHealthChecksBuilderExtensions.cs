using Forge.Jobs.Diagnostics.Health;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace Forge.Jobs;

/// <summary>Health checks of Forge.Jobs, for <c>services.AddHealthChecks()</c>.</summary>
public static class ForgeJobsHealthChecksBuilderExtensions
{
    /// <summary>Adds three checks (docs/observability.md): <c>forge_jobs_store</c> (the store answers a round trip),
    /// <c>forge_jobs_engine</c> (this process's node runs; degraded while it drains) and <c>forge_jobs_leader</c> (a
    /// node of the cluster leads; degraded when none does).</summary>
    /// <param name="builder">The builder from <c>services.AddHealthChecks()</c>, on services where <c>AddForgeJobs</c> is called.</param>
    /// <param name="tags">Tags for all three checks, to select them for an endpoint such as a readiness probe.</param>
    public static IHealthChecksBuilder AddForgeJobs(this IHealthChecksBuilder builder, params string[] tags)
    {
        ArgumentNullException.ThrowIfNull(builder);
        return builder
            .AddCheck<StoreHealthCheck>("forge_jobs_store", HealthStatus.Unhealthy, tags)
            .AddCheck<EngineHealthCheck>("forge_jobs_engine", HealthStatus.Unhealthy, tags)
            .AddCheck<LeaderHealthCheck>("forge_jobs_leader", HealthStatus.Degraded, tags);
    }
}
