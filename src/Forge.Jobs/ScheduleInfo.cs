namespace Forge.Jobs;

/// <summary>A stored cron schedule as it is now.</summary>
public sealed record ScheduleInfo
{
    /// <summary>The schedule's unique name.</summary>
    public required string Name { get; init; }

    /// <summary>The cron expression, as registered.</summary>
    public required string CronExpression { get; init; }

    /// <summary>The id of the time zone the expression is read in (an IANA or Windows id, as given).</summary>
    public required string TimeZone { get; init; }

    /// <summary>The stable type name of the jobs it enqueues.</summary>
    public required string JobType { get; init; }

    /// <summary>The queue its jobs go to.</summary>
    public required string Queue { get; init; }

    /// <summary>The payload of every job it enqueues, as JSON.</summary>
    public required string Payload { get; init; }

    /// <summary>The priority of its jobs, 0 to 9.</summary>
    public required int Priority { get; init; }

    /// <summary>How many failed attempts each of its jobs may retry.</summary>
    public required int MaxRetries { get; init; }

    /// <summary>How long one attempt of its jobs may run.</summary>
    public required TimeSpan Timeout { get; init; }

    /// <summary>The tags of its jobs.</summary>
    public IReadOnlyList<string> Tags { get; init; } = [];

    /// <summary>Whether it is paused: a paused schedule enqueues nothing, and occurrences that fall while it is
    /// paused are never run.</summary>
    public required bool IsPaused { get; init; }

    /// <summary>What happens to occurrences missed by more than <see cref="ForgeJobsOptions.MisfireThreshold"/>.</summary>
    public required MisfirePolicy Misfire { get; init; }

    /// <summary>The next occurrence it has not handled yet, with the offset of its time zone at that instant; in the
    /// past when the leader has yet to handle it. <see langword="null"/> when the expression has no further occurrence.
    /// For a paused schedule, the occurrence it was at when paused: a resume starts again from the resume's time.</summary>
    public DateTimeOffset? NextRunAt { get; init; }

    /// <summary>The latest occurrence that enqueued a job (with the offset of its time zone), or <see langword="null"/>
    /// until the first one has.</summary>
    public DateTimeOffset? LastRunAt { get; init; }

    /// <summary>When it was first stored, on the store's clock.</summary>
    public required DateTimeOffset CreatedAt { get; init; }

    /// <summary>When its definition or pause state last changed, on the store's clock.</summary>
    public required DateTimeOffset UpdatedAt { get; init; }
}
