using Forge.Jobs.Serialization;
using Forge.Jobs.Storage;

namespace Forge.Jobs.Retry;

/// <summary>Turns a failed attempt into its completion: a retry after the job's backoff while retries remain,
/// else dead. Retries count failures, not attempts, so an attempt handed back by a shutdown costs none. The one place this rule lives, shared by the executors and the rescuer.</summary>
internal sealed class RetryPolicy(JobTypeRegistry registry)
{
    public const int MaxErrorLength = 16 * 1024;

    /// <summary>The completion of failed attempt <paramref name="attempt"/>, given the job's earlier <paramref name="failures"/>.</summary>
    public Completion Fail(JobId id, string leaseOwner, int attempt, int failures, int maxRetries, string type, string queue, RetryBackoff? backoff, string error, bool rescue = false)
    {
        if (error.Length > MaxErrorLength)
        {
            // Never cut a surrogate pair in half.
            error = error[..(char.IsHighSurrogate(error[MaxErrorLength - 1]) ? MaxErrorLength - 1 : MaxErrorLength)];
        }
        var failure = failures + 1;
        if (failure > maxRetries)
        {
            return new Completion(id, leaseOwner, attempt, CompletionOutcome.Dead, Error: error, Rescue: rescue);
        }

        var delay = registry.BackoffFor(backoff, type, queue).DelayAfter(failure, Random.Shared.NextDouble());
        return new Completion(id, leaseOwner, attempt, CompletionOutcome.Retry, Error: error, RetryDelay: delay, Rescue: rescue);
    }
}
