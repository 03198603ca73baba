using Forge.Jobs.Storage.InMemory;
using Forge.Jobs.Tests.Support;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;
using static Forge.Jobs.Tests.Scheduling.CronTestSupport;

namespace Forge.Jobs.Tests.Scheduling;

/// <summary>Schedules in time zones with daylight saving time, driven through the night of each transition in
/// half-hour steps. The behaviour asserted here is Cronos's, documented in docs/scheduling.md:
/// a daily time in the hour that spring skips runs once, at the moment the clock jumps (02:30 becomes 03:00);
/// a daily time in the hour that autumn repeats runs once, in the first (summer-time) pass; an interval expression
/// (a step, range or wildcard in the hour field, or a minute or second schedule) runs on real time, so it runs in
/// both passes of the repeated hour and skips nothing in spring. Every occurrence falls on a step of the walk, so
/// each is handled on time.</summary>
public sealed class CronDaylightSavingTests
{
    private readonly Recorder _recorder = new();

    public static TheoryData<string, string, string, int, string[]> DailyJobs => new()
    {
        // Europe/Berlin, 2030-03-31: 02:00 CET becomes 03:00 CEST; local 02:30 does not exist.
        { "Europe/Berlin", "2030-03-30T22:00:00", "30 2 * * *", 10, ["2030-03-31T01:00:00"] },

        // Europe/Berlin, 2030-10-27: 03:00 CEST becomes 02:00 CET; local 02:30 happens twice (00:30 and 01:30 UTC).
        { "Europe/Berlin", "2030-10-26T22:00:00", "30 2 * * *", 10, ["2030-10-27T00:30:00"] },

        // America/New_York, 2030-03-10: 02:00 EST becomes 03:00 EDT.
        { "America/New_York", "2030-03-10T05:00:00", "30 2 * * *", 6, ["2030-03-10T07:00:00"] },

        // America/New_York, 2030-11-03: 02:00 EDT becomes 01:00 EST; local 01:30 happens twice (05:30 and 06:30 UTC).
        { "America/New_York", "2030-11-03T04:00:00", "30 1 * * *", 8, ["2030-11-03T05:30:00"] },
    };

    [Theory]
    [MemberData(nameof(DailyJobs))]
    public async Task Dst_DailyTimeInTheSkippedOrRepeatedHour_RunsExactlyOnce(string zone, string startUtc, string expression, int halfHours, string[] expectedUtc)
    {
        var (clock, store, node) = await StartAsync(startUtc, f => f.AddRecurring("daily", expression, new CronTick("d"), TimeZoneInfo.FindSystemTimeZoneById(zone)));
        await using (node)
        {
            await WalkAsync(clock, store, halfHours);

            Assert.Equal(expectedUtc.Select(Utc), await OccurrencesAsync(store, "daily"));
        }
    }

    [Fact]
    public async Task Dst_SpringForwardInBerlin_DailyJumpsTo0300_IntervalsRunOnRealTime()
    {
        var (clock, store, node) = await StartAsync("2030-03-30T22:00:00", Berlin);
        await using (node)
        {
            var preview = await node.Client.PreviewScheduleAsync("daily", 2);
            await WalkAsync(clock, store, 10);

            // 02:30 does not exist that night: the daily job runs at 03:00 CEST, when the clock jumps, and once.
            Assert.Equal([Utc("2030-03-31T01:00:00")], await OccurrencesAsync(store, "daily"));
            Assert.Equal([new DateTimeOffset(2030, 3, 31, 3, 0, 0, TimeSpan.FromHours(2)), new DateTimeOffset(2030, 4, 1, 2, 30, 0, TimeSpan.FromHours(2))], preview);
            Assert.Equal([TimeSpan.FromHours(2), TimeSpan.FromHours(2)], preview.Select(p => p.Offset));

            // Every 30 minutes of real time: 01:30 CET is followed by 03:00 CEST, half an hour later. Nothing is lost.
            Assert.Equal(HalfHoursUtc("2030-03-30T22:30:00", 10), await OccurrencesAsync(store, "half-hourly"));

            // "30 * * * *": 01:30 CET, then 02:30 (which does not exist) runs at 03:00 CEST, then 03:30 CEST.
            Assert.Equal(
                ["2030-03-30T22:30:00", "2030-03-30T23:30:00", "2030-03-31T00:30:00", "2030-03-31T01:00:00", "2030-03-31T01:30:00", "2030-03-31T02:30:00"],
                (await OccurrencesAsync(store, "hourly-at-30")).Select(Iso));

            // "15,45 2 * * *": both 02:15 and 02:45 fall in the skipped hour; they collapse into one run at 03:00 CEST.
            Assert.Equal([Utc("2030-03-31T01:00:00")], await OccurrencesAsync(store, "list"));
        }
    }

    [Fact]
    public async Task Dst_FallBackInBerlin_DailyRunsInTheFirstPass_IntervalsRunInBothPasses()
    {
        var (clock, store, node) = await StartAsync("2030-10-26T22:00:00", Berlin);
        await using (node)
        {
            var preview = await node.Client.PreviewScheduleAsync("daily", 2);
            await WalkAsync(clock, store, 10);

            // 02:30 happens twice that night: the daily job runs in the first pass (CEST) only.
            Assert.Equal([Utc("2030-10-27T00:30:00")], await OccurrencesAsync(store, "daily"));
            Assert.Equal([new DateTimeOffset(2030, 10, 27, 2, 30, 0, TimeSpan.FromHours(2)), new DateTimeOffset(2030, 10, 28, 2, 30, 0, TimeSpan.FromHours(1))], preview);
            Assert.Equal([TimeSpan.FromHours(2), TimeSpan.FromHours(1)], preview.Select(p => p.Offset));

            // Every 30 minutes of real time, so local 02:00 and 02:30 run in both passes: 10 runs in 5 hours.
            Assert.Equal(HalfHoursUtc("2030-10-26T22:30:00", 10), await OccurrencesAsync(store, "half-hourly"));

            // "30 * * * *": 02:30 CEST and 02:30 CET both run.
            Assert.Equal(
                ["2030-10-26T22:30:00", "2030-10-26T23:30:00", "2030-10-27T00:30:00", "2030-10-27T01:30:00", "2030-10-27T02:30:00"],
                (await OccurrencesAsync(store, "hourly-at-30")).Select(Iso));

            // "15,45 2 * * *" is a list, not an interval: 02:15 and 02:45 run in the first (CEST) pass only.
            Assert.Equal([Utc("2030-10-27T00:15:00"), Utc("2030-10-27T00:45:00")], await OccurrencesAsync(store, "list"));
        }
    }

    private static void Berlin(ForgeJobsBuilder forge)
    {
        var berlin = TimeZoneInfo.FindSystemTimeZoneById("Europe/Berlin");
        forge
            .AddRecurring("daily", "30 2 * * *", new CronTick("daily"), berlin)
            .AddRecurring("half-hourly", "*/30 * * * *", new CronTick("half"), berlin)
            .AddRecurring("hourly-at-30", "30 * * * *", new CronTick("hourly"), berlin)
            .AddRecurring("list", "15,45 2 * * *", new CronTick("list"), berlin);
    }

    /// <summary>Walks the clock through the night, a quarter of an hour at a time, letting the leader catch up after each step.</summary>
    private static async Task WalkAsync(FakeTimeProvider clock, WatchedStore store, int halfHours)
    {
        for (var i = 0; i < 2 * halfHours; i++)
        {
            await AdvanceAsync(clock, store, TimeSpan.FromMinutes(15));
        }
    }

    private static IEnumerable<DateTimeOffset> HalfHoursUtc(string firstUtc, int count) =>
        Enumerable.Range(0, count).Select(i => Utc(firstUtc).AddMinutes(30 * i));

    private static string Iso(DateTimeOffset instant) => instant.UtcDateTime.ToString("yyyy-MM-ddTHH:mm:ss", System.Globalization.CultureInfo.InvariantCulture);

    private async Task<(FakeTimeProvider Clock, WatchedStore Store, TestNode Node)> StartAsync(string startUtc, Action<ForgeJobsBuilder> schedules)
    {
        var clock = new FakeTimeProvider(Utc(startUtc));
        var store = new WatchedStore(new InMemoryJobStore(clock));
        var node = await TestNode.StartAsync(store, f => schedules(f.AddHandler<CronTickHandler, CronTick>()), clock, s => s.AddSingleton(_recorder));
        return (clock, store, node);
    }
}
