using System.Globalization;
using Forge.Jobs.Scheduling;
using Forge.Jobs.Storage;

namespace Forge.Jobs.Client;

/// <summary>Cron schedules: stored through the store, with cursors computed from the store's clock, which the leader
/// fires them by (a node whose own clock is off cannot start a schedule early or late). Every change wakes this
/// process's scheduler, so that a new or resumed schedule is looked at once if this node leads.</summary>
internal sealed partial class JobClient
{
    public const int MaxPreviewCount = 1000;

    /// <summary>How often a resume reads the schedule again when it changed between the read and the write.</summary>
    private const int ResumeAttempts = 10;

    private readonly CronContext _cron = cron ?? new CronContext(TimeProvider.System);

    public async Task<ScheduleInfo> AddOrUpdateScheduleAsync<TJob>(string name, string cronExpression, TJob job, ScheduleOptions? options = null, CancellationToken cancellationToken = default)
    {
        var definition = ScheduleDefinitions.Create(name, cronExpression, job, options ?? new ScheduleOptions(), registry);
        var next = ScheduleDefinitions.FirstRunAfter(definition, await store.GetTimeAsync(cancellationToken).ConfigureAwait(false));
        var stored = await store.UpsertScheduleAsync(definition, next, cancellationToken).ConfigureAwait(false);
        _cron.Signal();
        return ToInfo(stored);
    }

    public Task<bool> PauseScheduleAsync(string name, CancellationToken cancellationToken = default) =>
        store.PauseScheduleAsync(ScheduleNames.Validate(name, nameof(name)), cancellationToken);

    public async Task<bool> ResumeScheduleAsync(string name, CancellationToken cancellationToken = default)
    {
        ScheduleNames.Validate(name, nameof(name));
        for (var attempt = 0; attempt < ResumeAttempts; attempt++)
        {
            var schedule = await store.GetScheduleAsync(name, cancellationToken).ConfigureAwait(false);
            if (schedule is null)
            {
                return false;
            }

            if (!schedule.Paused)
            {
                return true;
            }

            var (expression, zone) = Evaluate(schedule.Definition);
            var now = await store.GetTimeAsync(cancellationToken).ConfigureAwait(false);
            var next = expression.GetNextOccurrence(now, zone)?.ToUniversalTime();
            if (await store.ResumeScheduleAsync(name, schedule.Definition.Expression, schedule.Definition.TimeZone, next, cancellationToken).ConfigureAwait(false))
            {
                _cron.Signal();
                return true;
            }

            // The expression or time zone changed between the read and the write (or the schedule was deleted): read again.
        }

        throw new InvalidOperationException(string.Create(CultureInfo.InvariantCulture, $"Schedule '{name}' changed {ResumeAttempts} times while it was being resumed; try again."));
    }

    public async Task<bool> DeleteScheduleAsync(string name, CancellationToken cancellationToken = default)
    {
        var deleted = await store.DeleteScheduleAsync(ScheduleNames.Validate(name, nameof(name)), cancellationToken).ConfigureAwait(false);
        _cron.Signal();
        return deleted;
    }

    public async Task<ScheduleInfo?> GetScheduleAsync(string name, CancellationToken cancellationToken = default)
    {
        var schedule = await store.GetScheduleAsync(ScheduleNames.Validate(name, nameof(name)), cancellationToken).ConfigureAwait(false);
        return schedule is null ? null : ToInfo(schedule);
    }

    public async Task<IReadOnlyList<ScheduleInfo>> ListSchedulesAsync(CancellationToken cancellationToken = default)
    {
        var schedules = await store.ListSchedulesAsync(cancellationToken).ConfigureAwait(false);
        return schedules.Select(ToInfo).ToList();
    }

    public async Task<IReadOnlyList<DateTimeOffset>> PreviewScheduleAsync(string name, int count, CancellationToken cancellationToken = default)
    {
        ScheduleNames.Validate(name, nameof(name));
        if (count is < 1 or > MaxPreviewCount)
        {
            throw new ArgumentException(string.Create(CultureInfo.InvariantCulture, $"Preview count is {count}; use 1 to {MaxPreviewCount} occurrences."), nameof(count));
        }

        var schedule = await store.GetScheduleAsync(name, cancellationToken).ConfigureAwait(false)
            ?? throw new InvalidOperationException($"No schedule is named '{name}'.");
        var (expression, zone) = Evaluate(schedule.Definition);
        var occurrences = new List<DateTimeOffset>(count);
        var next = schedule.Paused
            ? expression.GetNextOccurrence(await store.GetTimeAsync(cancellationToken).ConfigureAwait(false), zone)
            : schedule.NextRunAt is { } cursor ? CronExpressions.NextAtOrAfter(expression, cursor, zone) : null;
        while (occurrences.Count < count && next is { } occurrence)
        {
            occurrences.Add(occurrence);
            next = expression.GetNextOccurrence(occurrence, zone);
        }

        return occurrences;
    }

    private static (Cronos.CronExpression Expression, TimeZoneInfo Zone) Evaluate(ScheduleDefinition definition)
    {
        if (!CronExpressions.TryParse(definition.Expression, out var expression, out var error))
        {
            throw new InvalidOperationException($"Schedule '{definition.Name}' cannot be evaluated: {error}");
        }

        return CronExpressions.TryFindZone(definition.TimeZone, out var zone)
            ? (expression, zone)
            : throw new InvalidOperationException($"Schedule '{definition.Name}' cannot be evaluated: time zone '{definition.TimeZone}' is not a system time zone on this node.");
    }

    private static ScheduleInfo ToInfo(ScheduleRecord schedule)
    {
        var d = schedule.Definition;
        var zone = CronExpressions.TryFindZone(d.TimeZone, out var found) ? found : TimeZoneInfo.Utc;
        return new ScheduleInfo
        {
            Name = d.Name,
            CronExpression = d.Expression,
            TimeZone = d.TimeZone,
            JobType = d.Type,
            Queue = d.Queue,
            Payload = d.Payload,
            Priority = d.Priority,
            MaxRetries = d.MaxRetries,
            Timeout = d.Timeout,
            Tags = d.Tags,
            IsPaused = schedule.Paused,
            Misfire = d.Misfire,
            NextRunAt = schedule.NextRunAt is { } next ? TimeZoneInfo.ConvertTime(next, zone) : null,
            LastRunAt = schedule.LastRunAt is { } last ? TimeZoneInfo.ConvertTime(last, zone) : null,
            CreatedAt = schedule.CreatedAt,
            UpdatedAt = schedule.UpdatedAt,
        };
    }
}
