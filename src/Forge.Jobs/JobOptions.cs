namespace Forge.Jobs;

/// <summary>How one job is to be run. Every property is optional; unset ones fall back to the job type's
/// options (see <see cref="JobTypeOptions"/>) and then to the defaults stated here.</summary>
public sealed class JobOptions
{
    /// <summary>The queue the job goes to.</summary>
    /// <value>Defaults to the job type's queue, else <c>"default"</c>.</value>
    public string? Queue { get; set; }

    /// <summary>0 to 9; 9 runs first. <see cref="JobPriority"/> names the common values.</summary>
    /// <value>Defaults to <see cref="JobPriority.Normal"/> (5).</value>
    public int Priority { get; set; } = JobPriority.Normal;

    /// <summary>Run no sooner than this long after the enqueue (measured on the store's clock).
    /// Set at most one of <see cref="Delay"/> and <see cref="RunAt"/>.</summary>
    /// <value>Defaults to none: the job is available at once.</value>
    public TimeSpan? Delay { get; set; }

    /// <summary>Run no sooner than this time. A time in the past makes the job due at once, ordered by that
    /// time among jobs of its priority. Set at most one of <see cref="Delay"/> and <see cref="RunAt"/>.</summary>
    public DateTimeOffset? RunAt { get; set; }

    /// <summary>How many times a failed attempt is retried before the job is dead.</summary>
    /// <value>Defaults to the job type's value, else 3 (at most 4 failed runs; runs interrupted by a shutdown do not count).</value>
    public int? MaxRetries { get; set; }

    /// <summary>How long one attempt may run before its cancellation token fires. A handler that then throws
    /// fails the attempt (retried as usual); one that ignores the token for 5 more seconds is abandoned and the
    /// attempt fails; one that returns anyway has done its work and succeeds. At most 7 days.</summary>
    /// <value>Defaults to the job type's value, else 5 minutes.</value>
    public TimeSpan? Timeout { get; set; }

    /// <summary>How long to wait before each retry of this job.</summary>
    /// <value>Defaults to the job type's backoff, else the queue's, else <see cref="ForgeJobsOptions.Backoff"/>.</value>
    public RetryBackoff? Backoff { get; set; }

    /// <summary>A key that makes the enqueue idempotent: while a job with this key is stored, enqueueing
    /// another with the same key returns the stored job's id and stores nothing. 1 to 255 characters, none of them NUL or
    /// half of a surrogate pair; the key is stored and compared exactly as given.</summary>
    public string? IdempotencyKey { get; set; }

    /// <summary>Free-form labels to find the job by. At most 16 tags, each 1 to 64 characters, not only white space,
    /// with no control characters; stored as given.</summary>
    public IReadOnlyList<string>? Tags { get; set; }

    /// <summary>The jobs this one waits for: it stays <see cref="JobState.Waiting"/> until every parent has finished.
    /// A parent that ends dead or cancelled cancels this job unless the dependency was made with
    /// <see cref="JobDependency.Finished(JobId)"/>. Give <see cref="JobId"/>s of stored jobs (a missing one is
    /// rejected and nothing is stored), or, in a <see cref="Workflow"/>, step names. At most 10,000 parents.</summary>
    public IReadOnlyList<JobDependency>? DependsOn { get; set; }
}
