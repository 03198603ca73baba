namespace Forge.Jobs.Storage.InMemory;

/// <summary>Cron schedules, under the store's one lock: a fire checks the cursor and stores the jobs in one
/// critical section, which is what the PostgreSQL store does in one transaction.</summary>
internal sealed partial class InMemoryJobStore
{
    private readonly Dictionary<string, ScheduleRecord> _schedules = new(StringComparer.Ordinal);

    public Task<ScheduleRecord> UpsertScheduleAsync(ScheduleDefinition definition, DateTimeOffset? nextRunAt, CancellationToken cancellationToken)
    {
        lock (_lock)
        {
            var now = time.GetUtcNow();
            ScheduleRecord stored;
            if (!_schedules.TryGetValue(definition.Name, out var existing))
            {
                stored = new ScheduleRecord(definition, Paused: false, nextRunAt?.ToUniversalTime(), LastRunAt: null, now, now);
            }
            else
            {
                var old = existing.Definition;
                var sameTiming = old.Expression == definition.Expression && old.TimeZone == definition.TimeZone;
                stored = existing with
                {
                    Definition = definition,
                    NextRunAt = sameTiming ? existing.NextRunAt : nextRunAt?.ToUniversalTime(),
                    UpdatedAt = SameDefinition(old, definition) ? existing.UpdatedAt : now,
                };
            }

            _schedules[definition.Name] = stored;
            return Task.FromResult(stored);
        }
    }

    public Task<ScheduleRecord?> GetScheduleAsync(string name, CancellationToken cancellationToken)
    {
        lock (_lock)
        {
            return Task.FromResult(_schedules.GetValueOrDefault(name));
        }
    }

    public Task<IReadOnlyList<ScheduleRecord>> ListSchedulesAsync(CancellationToken cancellationToken)
    {
        lock (_lock)
        {
            IReadOnlyList<ScheduleRecord> all = _schedules.Values.OrderBy(s => s.Definition.Name, StringComparer.Ordinal).ToList();
            return Task.FromResult(all);
        }
    }

    public Task<bool> PauseScheduleAsync(string name, CancellationToken cancellationToken)
    {
        lock (_lock)
        {
            if (!_schedules.TryGetValue(name, out var schedule))
            {
                return Task.FromResult(false);
            }

            if (!schedule.Paused)
            {
                _schedules[name] = schedule with { Paused = true, UpdatedAt = time.GetUtcNow() };
            }

            return Task.FromResult(true);
        }
    }

    public Task<bool> ResumeScheduleAsync(string name, string expression, string timeZone, DateTimeOffset? nextRunAt, CancellationToken cancellationToken)
    {
        lock (_lock)
        {
            if (!_schedules.TryGetValue(name, out var schedule)
                || schedule.Definition.Expression != expression
                || schedule.Definition.TimeZone != timeZone)
            {
                return Task.FromResult(false);
            }

            if (schedule.Paused)
            {
                _schedules[name] = schedule with { Paused = false, NextRunAt = nextRunAt?.ToUniversalTime(), UpdatedAt = time.GetUtcNow() };
            }

            return Task.FromResult(true);
        }
    }

    public Task<bool> DeleteScheduleAsync(string name, CancellationToken cancellationToken)
    {
        lock (_lock)
        {
            return Task.FromResult(_schedules.Remove(name));
        }
    }

    public Task<IReadOnlyList<ScheduleRecord>> ListDueSchedulesAsync(DateTimeOffset now, string? afterName, int limit, CancellationToken cancellationToken)
    {
        lock (_lock)
        {
            IReadOnlyList<ScheduleRecord> due = _schedules.Values
                .Where(s => !s.Paused && s.NextRunAt <= now && (afterName is null || string.CompareOrdinal(s.Definition.Name, afterName) > 0))
                .OrderBy(s => s.Definition.Name, StringComparer.Ordinal)
                .Take(limit)
                .ToList();
            return Task.FromResult(due);
        }
    }

    public Task<DateTimeOffset?> GetNextScheduleRunAsync(DateTimeOffset after, CancellationToken cancellationToken)
    {
        lock (_lock)
        {
            var next = _schedules.Values
                .Where(s => !s.Paused && s.NextRunAt > after)
                .Min(s => s.NextRunAt);
            return Task.FromResult(next);
        }
    }

    public Task<bool> FireScheduleAsync(ScheduleFire fire, CancellationToken cancellationToken)
    {
        HashSet<string>? availableQueues;
        lock (_lock)
        {
            if (!_schedules.TryGetValue(fire.Name, out var schedule)
                || schedule.Paused
                || schedule.NextRunAt != fire.ExpectedNextRunAt
                || schedule.Definition.Expression != fire.Expression
                || schedule.Definition.TimeZone != fire.TimeZone)
            {
                return Task.FromResult(false);
            }

            // The insert throws (a full queue) before it stores anything, and then the cursor stays too.
            (_, availableQueues, _) = InsertLocked(fire.Jobs);
            _schedules[fire.Name] = schedule with
            {
                NextRunAt = fire.NextRunAt?.ToUniversalTime(),
                LastRunAt = fire.LastRunAt?.ToUniversalTime() ?? schedule.LastRunAt,
            };
        }

        NotifyAvailable(availableQueues);
        return Task.FromResult(true);
    }

    private static bool SameDefinition(ScheduleDefinition a, ScheduleDefinition b) =>
        a with { Tags = b.Tags } == b && a.Tags.SequenceEqual(b.Tags, StringComparer.Ordinal);
}
