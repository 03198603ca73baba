using Forge.Jobs.Storage;

namespace Forge.Jobs.Tests.Support;

/// <summary>Cron schedules, passed on; changes signal like every other write.</summary>
internal sealed partial class WatchedStore
{
    public async Task<ScheduleRecord> UpsertScheduleAsync(ScheduleDefinition definition, DateTimeOffset? nextRunAt, CancellationToken cancellationToken) =>
        Changed(await inner.UpsertScheduleAsync(definition, nextRunAt, cancellationToken));

    public Task<ScheduleRecord?> GetScheduleAsync(string name, CancellationToken cancellationToken) => inner.GetScheduleAsync(name, cancellationToken);

    public Task<IReadOnlyList<ScheduleRecord>> ListSchedulesAsync(CancellationToken cancellationToken) => inner.ListSchedulesAsync(cancellationToken);

    public async Task<bool> PauseScheduleAsync(string name, CancellationToken cancellationToken) =>
        Changed(await inner.PauseScheduleAsync(name, cancellationToken));

    public async Task<bool> ResumeScheduleAsync(string name, string expression, string timeZone, DateTimeOffset? nextRunAt, CancellationToken cancellationToken) =>
        Changed(await inner.ResumeScheduleAsync(name, expression, timeZone, nextRunAt, cancellationToken));

    public async Task<bool> DeleteScheduleAsync(string name, CancellationToken cancellationToken) =>
        Changed(await inner.DeleteScheduleAsync(name, cancellationToken));

    public Task<IReadOnlyList<ScheduleRecord>> ListDueSchedulesAsync(DateTimeOffset now, string? afterName, int limit, CancellationToken cancellationToken) =>
        inner.ListDueSchedulesAsync(now, afterName, limit, cancellationToken);

    public Task<DateTimeOffset?> GetNextScheduleRunAsync(DateTimeOffset after, CancellationToken cancellationToken) =>
        inner.GetNextScheduleRunAsync(after, cancellationToken);

    public async Task<bool> FireScheduleAsync(ScheduleFire fire, CancellationToken cancellationToken) =>
        Changed(await inner.FireScheduleAsync(fire, cancellationToken));
}
