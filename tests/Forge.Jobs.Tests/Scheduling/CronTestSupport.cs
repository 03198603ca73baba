using System.Globalization;
using Forge.Jobs.Storage;
using Forge.Jobs.Tests.Support;
using Microsoft.Extensions.Time.Testing;

namespace Forge.Jobs.Tests.Scheduling;

/// <summary>The payload of the test schedules; <see cref="Label"/> tells versions of a schedule apart.</summary>
[JobType("cron_tick")]
internal sealed record CronTick(string Label);

internal sealed class CronTickHandler(Recorder recorder) : IJobHandler<CronTick>
{
    public Task HandleAsync(CronTick job, JobContext context, CancellationToken cancellationToken)
    {
        recorder.Ran(checked((int)context.JobId.Value));
        return Task.CompletedTask;
    }
}

internal static class CronTestSupport
{

    /// <summary>The occurrences of <paramref name="schedule"/> that enqueued a job, read from the jobs' idempotency keys.</summary>
    public static async Task<IReadOnlyList<DateTimeOffset>> OccurrencesAsync(IJobStore store, string schedule)
    {
        var prefix = $"schedule:{schedule}:";
        var jobs = await store.ListAsync(new JobQuery { Limit = 1000 }, default);
        return jobs
            .Select(j => j.IdempotencyKey)
            .Where(k => k is not null && k.StartsWith(prefix, StringComparison.Ordinal))
            .Select(k => DateTimeOffset.Parse(k![prefix.Length..], CultureInfo.InvariantCulture, DateTimeStyles.RoundtripKind))
            .Order()
            .ToList();
    }

    /// <summary>Waits until the leader has handled every occurrence up to now: every schedule that is not paused has
    /// its cursor in the future. The fire that moves a cursor inserts the jobs in the same step.</summary>
    public static Task CaughtUpAsync(WatchedStore store, TimeProvider clock) =>
        store.UntilAsync(
            async () =>
            {
                var now = clock.GetUtcNow();
                return (await store.ListSchedulesAsync(default)).All(s => s.Paused || s.NextRunAt is null || s.NextRunAt > now);
            },
            $"every schedule to be handled up to {clock.GetUtcNow():O}");

    /// <summary>Moves the clock forward and waits until the leader has handled every occurrence up to the new time.</summary>
    public static async Task AdvanceAsync(FakeTimeProvider clock, WatchedStore store, TimeSpan by)
    {
        clock.Advance(by);
        await CaughtUpAsync(store, clock);
    }

    public static DateTimeOffset Utc(string iso) => DateTimeOffset.Parse(iso, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal | DateTimeStyles.AdjustToUniversal);
}
