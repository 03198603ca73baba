namespace Forge.Jobs.Storage;

/// <summary>What a schedule enqueues and when, with every job option resolved: the part a registration sets.
/// <see cref="TimeZone"/> is a system time zone id.</summary>
internal sealed record ScheduleDefinition(
    string Name,
    string Expression,
    string TimeZone,
    MisfirePolicy Misfire,
    string Type,
    string Queue,
    string Payload,
    int Priority,
    int MaxRetries,
    TimeSpan Timeout,
    IReadOnlyList<string> Tags,
    RetryBackoff? Backoff);

/// <summary>A stored schedule. <see cref="NextRunAt"/> is its cursor: the earliest occurrence not yet handled
/// (UTC), or <see langword="null"/> when the expression has no further occurrence. <see cref="LastRunAt"/> is the
/// latest occurrence that enqueued a job. All are instants of the store's clock.</summary>
internal sealed record ScheduleRecord(
    ScheduleDefinition Definition,
    bool Paused,
    DateTimeOffset? NextRunAt,
    DateTimeOffset? LastRunAt,
    DateTimeOffset CreatedAt,
    DateTimeOffset UpdatedAt);

/// <summary>One firing of a schedule: a compare-and-set of its cursor from <see cref="ExpectedNextRunAt"/> to
/// <see cref="NextRunAt"/>, applied only while the schedule is not paused and still has this
/// <see cref="Expression"/> and <see cref="TimeZone"/>, together with the insert of <see cref="Jobs"/>: both
/// happen or neither does. <see cref="LastRunAt"/>, when set, replaces the stored one.</summary>
internal sealed record ScheduleFire(
    string Name,
    string Expression,
    string TimeZone,
    DateTimeOffset ExpectedNextRunAt,
    DateTimeOffset? NextRunAt,
    DateTimeOffset? LastRunAt,
    IReadOnlyList<NewJob> Jobs);
