namespace Forge.Jobs.Storage;

/// <summary>Cron schedules. A schedule's cursor (<see cref="ScheduleRecord.NextRunAt"/>) is computed by the caller and
/// compared with the <c>now</c> the caller passes, since the store never evaluates cron expressions; callers take that
/// now from <see cref="IJobStore.GetTimeAsync"/>, so cursors are instants of the store's clock like every other time.</summary>
internal partial interface IJobStore
{
    /// <summary>Creates the schedule with <paramref name="nextRunAt"/> as its cursor, or replaces the definition of the
    /// stored one: its pause is kept, and so is its cursor unless the expression or the time zone changed, in which
    /// case the cursor becomes <paramref name="nextRunAt"/>.</summary>
    /// <returns>The schedule as stored now.</returns>
    Task<ScheduleRecord> UpsertScheduleAsync(ScheduleDefinition definition, DateTimeOffset? nextRunAt, CancellationToken cancellationToken);

    Task<ScheduleRecord?> GetScheduleAsync(string name, CancellationToken cancellationToken);

    /// <summary>Every schedule, by name (ordinal).</summary>
    Task<IReadOnlyList<ScheduleRecord>> ListSchedulesAsync(CancellationToken cancellationToken);

    /// <summary>Pauses a schedule: it is not due and cannot fire until resumed. Pausing a paused schedule changes nothing.</summary>
    /// <returns><see langword="false"/> when there is no such schedule.</returns>
    Task<bool> PauseScheduleAsync(string name, CancellationToken cancellationToken);

    /// <summary>Resumes a paused schedule with <paramref name="nextRunAt"/> as its cursor, provided it still has this
    /// <paramref name="expression"/> and <paramref name="timeZone"/> (the cursor was computed from them). A schedule
    /// that is not paused keeps its cursor.</summary>
    /// <returns><see langword="false"/> when there is no such schedule, or its expression or time zone differ.</returns>
    Task<bool> ResumeScheduleAsync(string name, string expression, string timeZone, DateTimeOffset? nextRunAt, CancellationToken cancellationToken);

    /// <summary>Deletes a schedule. Jobs it already enqueued are not touched.</summary>
    /// <returns><see langword="false"/> when there is no such schedule.</returns>
    Task<bool> DeleteScheduleAsync(string name, CancellationToken cancellationToken);

    /// <summary>Schedules that are not paused and whose cursor is at or before <paramref name="now"/>, by name (ordinal),
    /// from the first name after <paramref name="afterName"/> (when given), at most <paramref name="limit"/>.</summary>
    Task<IReadOnlyList<ScheduleRecord>> ListDueSchedulesAsync(DateTimeOffset now, string? afterName, int limit, CancellationToken cancellationToken);

    /// <summary>The earliest cursor after <paramref name="after"/> among schedules that are not paused.</summary>
    Task<DateTimeOffset?> GetNextScheduleRunAsync(DateTimeOffset after, CancellationToken cancellationToken);

    /// <summary>Fires a schedule: moves its cursor and inserts the jobs of the occurrences it covers, atomically,
    /// only if the cursor is still <see cref="ScheduleFire.ExpectedNextRunAt"/> (see <see cref="ScheduleFire"/>).
    /// Of several callers that fire with the same expected cursor, at most one succeeds.</summary>
    /// <returns><see langword="false"/> when the compare-and-set failed; nothing was stored.</returns>
    /// <exception cref="QueueFullException">A bounded queue would pass its length; nothing was stored.</exception>
    Task<bool> FireScheduleAsync(ScheduleFire fire, CancellationToken cancellationToken);
}
