using System.Diagnostics;
using Forge.Jobs.Storage;
using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace Forge.Jobs.Diagnostics.Health;

/// <summary>Healthy when the store answers a round trip (on PostgreSQL, <c>SELECT now()</c>), else unhealthy with the error.</summary>
internal sealed class StoreHealthCheck(IJobStore store) : IHealthCheck
{
    public async Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        var watch = Stopwatch.StartNew();
        try
        {
            await store.GetTimeAsync(cancellationToken).ConfigureAwait(false);
            return HealthCheckResult.Healthy($"The job store answered in {watch.Elapsed.TotalMilliseconds:F0} ms.");
        }
        catch (Exception exception) when (exception is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
        {
            return new HealthCheckResult(context.Registration.FailureStatus, "The job store did not answer.", exception);
        }
    }
}
