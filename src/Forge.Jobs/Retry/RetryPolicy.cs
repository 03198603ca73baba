using Forge.Jobs.Serialization;
using Forge.Jobs.Storage;

namespace Forge.Jobs.Retry;

/// <summary>Turns a failed attempt into its completion: a retry after the job's backoff while retries remain,
/// else dead. The one place this rule lives, shared by the executors and the rescuer.</summary>
internal sealed class RetryPolicy(JobTypeRegistry registry)
{
    public const int MaxErrorLength = 16 * 1024;

    public Completion Fail(JobId id, string leaseOwner, int attempt, int maxRetries, string type, string queue, RetryBackoff? backoff, string error, bool rescue = false)
    {
        error = error.Length > MaxErrorLength ? error[..MaxErrorLength] : error;
        if (attempt > maxRetries)
        {
            return new Completion(id, leaseOwner, attempt, CompletionOutcome.Dead, Error: error, Rescue: rescue);
        }

        var delay = registry.BackoffFor(backoff, type, queue).DelayAfter(attempt, Random.Shared.NextDouble());
        return new Completion(id, leaseOwner, attempt, CompletionOutcome.Retry, Error: error, RetryDelay: delay, Rescue: rescue);
    }
}
