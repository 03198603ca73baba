namespace Forge.Jobs;

/// <summary>How a cron schedule is evaluated and what its jobs look like. Passed to
/// <see cref="ForgeJobsBuilder.AddRecurring{TJob}"/> and <see cref="IJobClient.AddOrUpdateScheduleAsync{TJob}"/>.</summary>
public sealed class ScheduleOptions
{
    /// <summary>The time zone the expression is read in. It must be a system time zone (one that
    /// <see cref="TimeZoneInfo.FindSystemTimeZoneById"/> finds by its id on every node), since only its id is stored.</summary>
    /// <value>Defaults to <see cref="TimeZoneInfo.Utc"/>.</value>
    public TimeZoneInfo TimeZone { get; set; } = TimeZoneInfo.Utc;

    /// <summary>What happens to occurrences missed by more than <see cref="ForgeJobsOptions.MisfireThreshold"/>.</summary>
    /// <value>Defaults to <see cref="MisfirePolicy.Skip"/>.</value>
    public MisfirePolicy Misfire { get; set; } = MisfirePolicy.Skip;

    /// <summary>Options of every job the schedule enqueues: <see cref="JobOptions.Queue"/>, <see cref="JobOptions.Priority"/>,
    /// <see cref="JobOptions.MaxRetries"/>, <see cref="JobOptions.Timeout"/>, <see cref="JobOptions.Backoff"/> and
    /// <see cref="JobOptions.Tags"/> apply. <see cref="JobOptions.Delay"/>, <see cref="JobOptions.RunAt"/> and
    /// <see cref="JobOptions.IdempotencyKey"/> cannot apply to a recurring job and are rejected: each occurrence is due
    /// when it occurs, and its job's idempotency key is <c>schedule:{name}:{occurrence}</c>.</summary>
    /// <value>Defaults to none: the job type's defaults, as for <see cref="IJobClient.EnqueueAsync{TJob}(TJob, JobOptions?, CancellationToken)"/>.</value>
    public JobOptions? Job { get; set; }
}
