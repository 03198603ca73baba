using Forge.Jobs;

namespace Forge.Jobs.Reliability;

/// <summary>Works until the instant <paramref name="At"/> (on the system clock, which every node of a machine shares), then
/// returns: jobs that run at once on different nodes with the same instant finish together.</summary>
[JobType("until")]
public sealed record UntilJob(DateTimeOffset At);

public sealed class UntilHandler(Ledger ledger) : IJobHandler<UntilJob>
{
    public Task HandleAsync(UntilJob job, JobContext context, CancellationToken cancellationToken) =>
        ledger.RecordAsync(context, async () =>
        {
            var left = job.At - DateTimeOffset.UtcNow;
            if (left > TimeSpan.Zero)
            {
                await Task.Delay(left, cancellationToken);
            }
        }, cancellationToken);
}
