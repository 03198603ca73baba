using Forge.Jobs.Storage.InMemory;
using Forge.Jobs.Tests.Support;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;
using static Forge.Jobs.Tests.Scheduling.CronTestSupport;

namespace Forge.Jobs.Tests.Scheduling;

/// <summary>Cron schedules on a whole node, with the in-memory store and a fake clock that the test moves.</summary>
public sealed class CronSchedulerTests
{
    private static readonly DateTimeOffset Start = Utc("2030-01-01T00:00:00");

    private readonly FakeTimeProvider _clock = new(Start);
    private readonly Recorder _recorder = new();
    private readonly WatchedStore _store;

    public CronSchedulerTests() => _store = new WatchedStore(new InMemoryJobStore(_clock));

    [Fact]
    public async Task Cron_TimeAdvancing_EnqueuesEachOccurrenceOnceAndRunsIt()
    {
        await using var node = await StartAsync(f => f.AddRecurring("every-minute", "* * * * *", new CronTick("m")));

        for (var minute = 1; minute <= 10; minute++)
        {
            await AdvanceAsync(TimeSpan.FromMinutes(1));

            // Let the job finish before the clock jumps again: a jump past its lease would have it rescued and run again.
            await _store.UntilAsync(async () => (await _store.ListAsync(new JobQuery { State = JobState.Succeeded }, default)).Count == minute, $"job {minute} to succeed");
        }

        Assert.Equal(Minutes(1, 10), await OccurrencesAsync(_store, "every-minute"));
        var schedule = await node.Client.GetScheduleAsync("every-minute");
        Assert.Equal((Start.AddMinutes(10), Start.AddMinutes(11)), (schedule!.LastRunAt!.Value, schedule.NextRunAt!.Value));
        Assert.Equal(10, _recorder.Runs.Count);
        Assert.All(_recorder.Runs.Values, runs => Assert.Equal(1, runs));
    }

    [Fact]
    public async Task Cron_SixFieldExpression_FiresOnItsSeconds()
    {
        await using var node = await StartAsync(f => f.AddRecurring("quarter-minute", "*/15 * * * * *", new CronTick("s")));

        for (var step = 0; step < 8; step++)
        {
            await AdvanceAsync(TimeSpan.FromSeconds(15));
        }

        Assert.Equal(Enumerable.Range(1, 8).Select(i => Start.AddSeconds(15 * i)), await OccurrencesAsync(_store, "quarter-minute"));
    }

    [Fact]
    public async Task Cron_PausedSchedule_EnqueuesNothingAndResumesFromTheResumeTime()
    {
        await using var node = await StartAsync(f => f
            .AddRecurring("paused", "* * * * *", new CronTick("p"))
            .AddRecurring("probe", "* * * * *", new CronTick("probe")));
        await AdvanceAsync(TimeSpan.FromMinutes(1));

        Assert.True(await node.Client.PauseScheduleAsync("paused"));
        for (var minute = 2; minute <= 4; minute++)
        {
            await AdvanceAsync(TimeSpan.FromMinutes(1));
        }

        // The probe fired at minutes 2 to 4, so the leader passed those minutes; the paused schedule fired none.
        Assert.Equal(Minutes(1, 4), await OccurrencesAsync(_store, "probe"));
        Assert.Equal(Minutes(1, 1), await OccurrencesAsync(_store, "paused"));
        Assert.True((await node.Client.GetScheduleAsync("paused"))!.IsPaused);

        Assert.True(await node.Client.ResumeScheduleAsync("paused"));
        Assert.Equal(Start.AddMinutes(5), (await node.Client.GetScheduleAsync("paused"))!.NextRunAt);
        await AdvanceAsync(TimeSpan.FromMinutes(1));

        Assert.Equal([Start.AddMinutes(1), Start.AddMinutes(5)], await OccurrencesAsync(_store, "paused"));
        Assert.False(await node.Client.PauseScheduleAsync("nobody"));
        Assert.False(await node.Client.ResumeScheduleAsync("nobody"));
    }

    [Fact]
    public async Task Cron_AfterTheClusterWasDown_SkipRunsOnlyTheOnTimeOccurrences_RunOnceRunsTheMissedOnesOnce()
    {
        Action<ForgeJobsBuilder> schedules = f => f
            .AddRecurring("skip", "* * * * *", new CronTick("skip"))
            .AddRecurring("run-once", "* * * * *", new CronTick("once"), configure: s => s.Misfire = MisfirePolicy.RunOnce);
        var first = await StartAsync(schedules);
        await AdvanceAsync(TimeSpan.FromMinutes(1));
        await first.DisposeAsync();

        // Down for an hour: at 01:01, the occurrences 00:02 to 00:59 are more than the threshold (1 minute) late;
        // 01:00 (exactly 1 minute late) and 01:01 are on time.
        _clock.Advance(TimeSpan.FromHours(1));
        await using var second = await StartAsync(schedules);
        await CaughtUpAsync(_store, _clock);

        Assert.Equal([Start.AddMinutes(1), Start.AddMinutes(60), Start.AddMinutes(61)], await OccurrencesAsync(_store, "skip"));
        Assert.Equal([Start.AddMinutes(1), Start.AddMinutes(2), Start.AddMinutes(60), Start.AddMinutes(61)], await OccurrencesAsync(_store, "run-once"));
        Assert.Equal(Start.AddMinutes(62), (await second.Client.GetScheduleAsync("skip"))!.NextRunAt);
    }

    [Fact]
    public async Task Cron_MisfireThreshold_DecidesWhatIsLate()
    {
        Action<ForgeJobsBuilder> schedules = f => f
            .Configure(o => o.MisfireThreshold = TimeSpan.FromMinutes(10))
            .AddRecurring("skip", "* * * * *", new CronTick("skip"));
        await (await StartAsync(schedules)).DisposeAsync();

        _clock.Advance(TimeSpan.FromMinutes(15));
        await using var node = await StartAsync(schedules);
        await CaughtUpAsync(_store, _clock);

        Assert.Equal(Minutes(5, 15), await OccurrencesAsync(_store, "skip"));
    }

    [Fact]
    public async Task Cron_RuntimeUpdate_ChangesTheNextRunAndTheJob()
    {
        await using var node = await StartAsync(f => f.Configure(o => o.PollInterval = TimeSpan.FromMinutes(1)));

        var created = await node.Client.AddOrUpdateScheduleAsync("report", "0 7 * * *", new CronTick("v1"));
        var moved = await node.Client.AddOrUpdateScheduleAsync("report", "30 6 * * *", new CronTick("v1"));
        var repaid = await node.Client.AddOrUpdateScheduleAsync("report", "30 6 * * *", new CronTick("v2"), new ScheduleOptions { Job = new JobOptions { Priority = JobPriority.High } });

        Assert.Equal(Start.AddHours(7), created.NextRunAt);
        Assert.Equal(Start.AddHours(6.5), moved.NextRunAt);
        Assert.Equal(Start.AddHours(6.5), repaid.NextRunAt);
        Assert.Equal(
            [Start.AddHours(6.5), Start.AddDays(1).AddHours(6.5), Start.AddDays(2).AddHours(6.5)],
            await node.Client.PreviewScheduleAsync("report", 3));

        await AdvanceAsync(TimeSpan.FromHours(6.5));

        var job = Assert.Single(await _store.ListAsync(new JobQuery(), default));
        Assert.Equal(("schedule:report:2030-01-01T06:30:00.0000000Z", JobPriority.High, "cron_tick"), (job.IdempotencyKey, job.Priority, job.Type));
        Assert.Contains("v2", job.Payload, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Cron_ScheduleInfo_DescribesTheScheduleWithItsJobTypeDefaults()
    {
        await using var node = await StartAsync(f => f
            .AddQueue("reports")
            .AddHandler<CronTickHandler, CronTick>(t => { t.Queue = "reports"; t.MaxRetries = 7; })
            .AddRecurring("berlin", "0 7 * * 1-5", new CronTick("b"), TimeZoneInfo.FindSystemTimeZoneById("Europe/Berlin"), s => s.Job = new JobOptions { Tags = ["daily"] }),
            addHandler: false);

        var schedule = Assert.Single(await node.Client.ListSchedulesAsync());

        Assert.Equal(("berlin", "0 7 * * 1-5", "Europe/Berlin", "cron_tick", "reports"), (schedule.Name, schedule.CronExpression, schedule.TimeZone, schedule.JobType, schedule.Queue));
        Assert.Equal((7, JobPriority.Normal, MisfirePolicy.Skip, false), (schedule.MaxRetries, schedule.Priority, schedule.Misfire, schedule.IsPaused));
        Assert.Equal(["daily"], schedule.Tags);
        Assert.Contains("\"label\":\"b\"", schedule.Payload, StringComparison.Ordinal);
        Assert.Null(schedule.LastRunAt);

        // 2030-01-01 is a Tuesday; 07:00 in Berlin is 06:00 UTC in winter, shown with Berlin's offset.
        Assert.Equal(new DateTimeOffset(2030, 1, 1, 7, 0, 0, TimeSpan.FromHours(1)), schedule.NextRunAt);
        Assert.Equal(TimeSpan.FromHours(1), schedule.NextRunAt!.Value.Offset);
    }

    [Fact]
    public async Task Cron_DeletedAtRunTime_StopsUntilANodeThatRegistersItStarts()
    {
        Action<ForgeJobsBuilder> schedules = f => f
            .AddRecurring("coded", "* * * * *", new CronTick("c"))
            .AddRecurring("probe", "* * * * *", new CronTick("probe"));
        var first = await StartAsync(schedules);
        Assert.True(await first.Client.DeleteScheduleAsync("coded"));
        Assert.False(await first.Client.DeleteScheduleAsync("coded"));
        await AdvanceAsync(TimeSpan.FromMinutes(1));
        Assert.Equal(Minutes(1, 1), await OccurrencesAsync(_store, "probe"));
        Assert.Empty(await OccurrencesAsync(_store, "coded"));
        await first.DisposeAsync();

        await using var second = await StartAsync(schedules);
        await AdvanceAsync(TimeSpan.FromMinutes(1));

        Assert.Equal(Minutes(2, 2), await OccurrencesAsync(_store, "coded"));
    }

    [Fact]
    public async Task Cron_NodeRestartWithItsRegistration_KeepsARuntimePause_AndTheCursorUnlessTheExpressionChanged()
    {
        var first = await StartAsync(f => f.AddRecurring("s", "0 7 * * *", new CronTick("v1")));
        Assert.True(await first.Client.PauseScheduleAsync("s"));
        await first.DisposeAsync();

        _clock.Advance(TimeSpan.FromHours(1));
        var second = await StartAsync(f => f.AddRecurring("s", "0 7 * * *", new CronTick("v2")));
        var kept = await second.Client.GetScheduleAsync("s");
        await second.DisposeAsync();
        await using var third = await StartAsync(f => f.AddRecurring("s", "0 9 * * *", new CronTick("v3")));
        var changed = await third.Client.GetScheduleAsync("s");

        Assert.Equal((true, Start.AddHours(7)), (kept!.IsPaused, kept.NextRunAt!.Value));
        Assert.Contains("v2", kept.Payload, StringComparison.Ordinal);
        Assert.Equal((true, Start.AddHours(9)), (changed!.IsPaused, changed.NextRunAt!.Value));
    }

    [Theory]
    [InlineData("61 * * * *", "Minutes")]
    [InlineData("* * * *", "it has 4 fields")]
    [InlineData("0 0 7 * * * *", "it has 7 fields")]
    [InlineData("0 0 30 2 *", "it never occurs")]
    [InlineData("@fortnightly", "")]
    [InlineData("", "it is empty")]
    public void AddRecurring_InvalidExpression_ThrowsAtOnceQuotingIt(string expression, string reason)
    {
        var services = new ServiceCollection();

        var error = Assert.Throws<ArgumentException>(() => services.AddForgeJobs(f => f.AddRecurring("bad", expression, new CronTick("x"))));

        Assert.Contains($"Cron expression '{expression}' is not valid", error.Message, StringComparison.Ordinal);
        Assert.Contains(reason, error.Message, StringComparison.Ordinal);
        Assert.Contains("five fields (minute hour day-of-month month day-of-week", error.Message, StringComparison.Ordinal);
        Assert.Contains("six fields with seconds first", error.Message, StringComparison.Ordinal);
        Assert.Equal("cronExpression", error.ParamName);
    }

    [Fact]
    public async Task AddOrUpdateSchedule_InvalidExpression_ThrowsQuotingItAndStoresNothing()
    {
        await using var node = await StartAsync(_ => { });

        var error = await Assert.ThrowsAsync<ArgumentException>(() => node.Client.AddOrUpdateScheduleAsync("bad", "0 25 * * *", new CronTick("x")));

        Assert.Contains("Cron expression '0 25 * * *' is not valid: Hours", error.Message, StringComparison.Ordinal);
        Assert.Empty(await node.Client.ListSchedulesAsync());
    }

    [Theory]
    [InlineData("has space")]
    [InlineData("slash/name")]
    [InlineData("")]
    public async Task Schedules_InvalidName_IsRejectedQuotingIt(string name)
    {
        await using var node = await StartAsync(_ => { });

        Assert.Contains($"Schedule name '{name}' is not valid", Assert.Throws<ArgumentException>(() => new ServiceCollection().AddForgeJobs(f => f.AddRecurring(name, "* * * * *", new CronTick("x")))).Message, StringComparison.Ordinal);
        Assert.Contains($"Schedule name '{name}' is not valid", (await Assert.ThrowsAsync<ArgumentException>(() => node.Client.AddOrUpdateScheduleAsync(name, "* * * * *", new CronTick("x")))).Message, StringComparison.Ordinal);
        await Assert.ThrowsAsync<ArgumentException>(() => node.Client.GetScheduleAsync(name));
        await Assert.ThrowsAsync<ArgumentException>(() => node.Client.PauseScheduleAsync(name));
        await Assert.ThrowsAsync<ArgumentException>(() => node.Client.DeleteScheduleAsync(name));
    }

    [Theory]
    [InlineData("Delay")]
    [InlineData("RunAt")]
    [InlineData("IdempotencyKey")]
    public void AddRecurring_JobOptionThatCannotRecur_IsRejected(string option)
    {
        var job = option switch
        {
            "Delay" => new JobOptions { Delay = TimeSpan.FromMinutes(1) },
            "RunAt" => new JobOptions { RunAt = Start },
            _ => new JobOptions { IdempotencyKey = "k" },
        };

        var error = Assert.Throws<ArgumentException>(() => new ServiceCollection().AddForgeJobs(f => f.AddRecurring("s", "* * * * *", new CronTick("x"), configure: s => s.Job = job)));

        Assert.Contains($"Schedule 's': ScheduleOptions.Job sets {option}, which cannot apply to a recurring job", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void AddRecurring_OtherBadRegistrations_AreRejectedAtOnce()
    {
        var custom = TimeZoneInfo.CreateCustomTimeZone("Forge/Test", TimeSpan.FromHours(3), "test", "test");

        Assert.Contains("a schedule named 's' is already registered", Assert.Throws<ArgumentException>(() => new ServiceCollection().AddForgeJobs(f => f
            .AddRecurring("s", "* * * * *", new CronTick("x"))
            .AddRecurring("s", "0 * * * *", new CronTick("y")))).Message, StringComparison.Ordinal);
        Assert.Contains("ScheduleOptions.TimeZone 'Forge/Test' is not a system time zone", Assert.Throws<ArgumentException>(() => new ServiceCollection().AddForgeJobs(f => f
            .AddRecurring("s", "* * * * *", new CronTick("x"), custom))).Message, StringComparison.Ordinal);
        Assert.Contains("JobOptions.Priority is 12", Assert.Throws<ArgumentException>(() => new ServiceCollection().AddForgeJobs(f => f
            .AddRecurring("s", "* * * * *", new CronTick("x"), configure: s => s.Job = new JobOptions { Priority = 12 }))).Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task PreviewSchedule_UnknownScheduleOrBadCount_Throws()
    {
        await using var node = await StartAsync(f => f.AddRecurring("s", "* * * * *", new CronTick("x")));

        Assert.Contains("No schedule is named 'nobody'", (await Assert.ThrowsAsync<InvalidOperationException>(() => node.Client.PreviewScheduleAsync("nobody", 3))).Message, StringComparison.Ordinal);
        await Assert.ThrowsAsync<ArgumentException>(() => node.Client.PreviewScheduleAsync("s", 0));
        await Assert.ThrowsAsync<ArgumentException>(() => node.Client.PreviewScheduleAsync("s", 1001));
        Assert.Equal(Minutes(1, 1000), await node.Client.PreviewScheduleAsync("s", 1000));
    }

    [Fact]
    public async Task PreviewSchedule_OfAPausedSchedule_StartsFromNow()
    {
        await using var node = await StartAsync(f => f.AddRecurring("s", "0 * * * *", new CronTick("x")));
        await node.Client.PauseScheduleAsync("s");

        _clock.Advance(TimeSpan.FromHours(5.5));

        Assert.Equal([Start.AddHours(6), Start.AddHours(7)], await node.Client.PreviewScheduleAsync("s", 2));
    }

    [Theory]
    [InlineData(0)]
    [InlineData(-60)]
    [InlineData(0.5)]
    [InlineData(400 * 86_400)]
    public async Task Start_MisfireThresholdOutOfRange_FailsNamingTheOption(double seconds)
    {
        using var host = TestNode.Build(new InMemoryJobStore(TimeProvider.System), f => f.Configure(o => o.MisfireThreshold = TimeSpan.FromSeconds(seconds)));

        var error = await Assert.ThrowsAsync<Microsoft.Extensions.Options.OptionsValidationException>(() => host.StartAsync());

        Assert.Contains($"ForgeJobsOptions.MisfireThreshold is {TimeSpan.FromSeconds(seconds)}; use 00:00:01 up to 366 days.", error.Message, StringComparison.Ordinal);
    }

    private Task AdvanceAsync(TimeSpan by) => CronTestSupport.AdvanceAsync(_clock, _store, by);

    private static List<DateTimeOffset> Minutes(int first, int last) =>
        [.. Enumerable.Range(first, last - first + 1).Select(m => Start.AddMinutes(m))];

    /// <summary>A node on the test's store and clock, with the handler of <see cref="CronTick"/> unless the test registers it.</summary>
    private Task<TestNode> StartAsync(Action<ForgeJobsBuilder> configure, bool addHandler = true) =>
        TestNode.StartAsync(_store, f => configure(addHandler ? f.AddHandler<CronTickHandler, CronTick>() : f), _clock, s => s.AddSingleton(_recorder));
}
