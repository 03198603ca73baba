using Forge.Jobs.Scheduling;
using Forge.Jobs.Storage;
using Forge.Jobs.Tests.Support;

namespace Forge.Jobs.Tests.Storage;

/// <summary>The schedule part of the store contract. Cursors are instants the caller chooses (the store never reads
/// its own clock for them), so these tests use fixed instants.</summary>
public abstract partial class JobStoreConformanceTests
{
    private static readonly DateTimeOffset Seven = new(2030, 1, 1, 7, 0, 0, TimeSpan.Zero);
    private static readonly DateTimeOffset EightNextDay = new(2030, 1, 2, 8, 0, 0, TimeSpan.Zero);

    [Fact]
    public async Task Schedule_Upsert_StoresEveryFieldAndTheCursor()
    {
        var definition = Schedule("daily-digest") with
        {
            Misfire = MisfirePolicy.RunOnce,
            Queue = "emails",
            Payload = """{"to":"a@b.c"}""",
            Priority = 8,
            MaxRetries = 2,
            Timeout = TimeSpan.FromSeconds(90),
            Tags = ["digest", "eu"],
            Backoff = new RetryBackoff { InitialDelay = TimeSpan.FromSeconds(3), MaxDelay = TimeSpan.FromMinutes(2), Jitter = 0.5 },
        };

        var stored = await Store.UpsertScheduleAsync(definition, Seven, default);
        var read = await Store.GetScheduleAsync("daily-digest", default);

        foreach (var schedule in new[] { stored, read! })
        {
            Assert.Equal(definition with { Tags = schedule.Definition.Tags, Payload = schedule.Definition.Payload }, schedule.Definition);
            Assert.Equal(["digest", "eu"], schedule.Definition.Tags);
            Assert.Equal("a@b.c", System.Text.Json.JsonDocument.Parse(schedule.Definition.Payload).RootElement.GetProperty("to").GetString());
            Assert.False(schedule.Paused);
            Assert.Equal(Seven, schedule.NextRunAt);
            Assert.Null(schedule.LastRunAt);
            Assert.Equal(schedule.CreatedAt, schedule.UpdatedAt);
        }
    }

    [Fact]
    public async Task Schedule_Get_UnknownName_ReturnsNull()
    {
        Assert.Null(await Store.GetScheduleAsync("nobody", default));
    }

    [Fact]
    public async Task Schedule_UpsertWithTheSameTiming_ReplacesTheDefinitionButKeepsCursorAndPause()
    {
        await Store.UpsertScheduleAsync(Schedule("s"), Seven, default);
        await Store.PauseScheduleAsync("s", default);

        var updated = await Store.UpsertScheduleAsync(Schedule("s") with { Payload = """{"v":2}""", Priority = 9, Misfire = MisfirePolicy.RunOnce }, EightNextDay, default);

        Assert.Equal(Seven, updated.NextRunAt);
        Assert.True(updated.Paused);
        Assert.Equal(9, updated.Definition.Priority);
        Assert.Equal(MisfirePolicy.RunOnce, updated.Definition.Misfire);
        Assert.Contains("2", updated.Definition.Payload, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("0 8 * * *", "UTC")]
    [InlineData("0 7 * * *", "Europe/Berlin")]
    public async Task Schedule_UpsertWithAnotherExpressionOrTimeZone_TakesTheNewCursor(string expression, string zone)
    {
        await Store.UpsertScheduleAsync(Schedule("s"), Seven, default);

        var updated = await Store.UpsertScheduleAsync(Schedule("s") with { Expression = expression, TimeZone = zone }, EightNextDay, default);

        Assert.Equal(EightNextDay, updated.NextRunAt);
        Assert.Equal((expression, zone), (updated.Definition.Expression, updated.Definition.TimeZone));
    }

    [Fact]
    public async Task Schedule_UpsertUnchanged_LeavesUpdatedAtAlone()
    {
        var created = await Store.UpsertScheduleAsync(Schedule("s"), Seven, default);

        var again = await Store.UpsertScheduleAsync(Schedule("s"), EightNextDay, default);

        Assert.Equal(created.UpdatedAt, again.UpdatedAt);
        Assert.Equal(created.CreatedAt, again.CreatedAt);
        Assert.Equal(Seven, again.NextRunAt);
    }

    [Fact]
    public async Task Schedule_List_ReturnsEveryScheduleByOrdinalName()
    {
        foreach (var name in new[] { "b", "a", "B", "a.b", "a:b" })
        {
            await Store.UpsertScheduleAsync(Schedule(name), Seven, default);
        }

        Assert.Equal(["B", "a", "a.b", "a:b", "b"], (await Store.ListSchedulesAsync(default)).Select(s => s.Definition.Name));
    }

    [Fact]
    public async Task Schedule_PauseAndResume_ReportWhetherTheScheduleExists()
    {
        Assert.False(await Store.PauseScheduleAsync("nobody", default));
        Assert.False(await Store.ResumeScheduleAsync("nobody", "0 7 * * *", "UTC", Seven, default));
        await Store.UpsertScheduleAsync(Schedule("s"), Seven, default);

        Assert.True(await Store.PauseScheduleAsync("s", default));
        Assert.True(await Store.PauseScheduleAsync("s", default));
        Assert.True((await Store.GetScheduleAsync("s", default))!.Paused);
        Assert.True(await Store.ResumeScheduleAsync("s", "0 7 * * *", "UTC", EightNextDay, default));

        var resumed = await Store.GetScheduleAsync("s", default);
        Assert.False(resumed!.Paused);
        Assert.Equal(EightNextDay, resumed.NextRunAt);
    }

    [Fact]
    public async Task Schedule_Resume_RefusedWhenTheExpressionChangedMeanwhile()
    {
        await Store.UpsertScheduleAsync(Schedule("s"), Seven, default);
        await Store.PauseScheduleAsync("s", default);

        Assert.False(await Store.ResumeScheduleAsync("s", "0 6 * * *", "UTC", EightNextDay, default));
        Assert.False(await Store.ResumeScheduleAsync("s", "0 7 * * *", "Europe/Berlin", EightNextDay, default));

        var schedule = await Store.GetScheduleAsync("s", default);
        Assert.True(schedule!.Paused);
        Assert.Equal(Seven, schedule.NextRunAt);
    }

    [Fact]
    public async Task Schedule_ResumeOfOneNotPaused_KeepsItsCursor()
    {
        await Store.UpsertScheduleAsync(Schedule("s"), Seven, default);

        Assert.True(await Store.ResumeScheduleAsync("s", "0 7 * * *", "UTC", EightNextDay, default));

        Assert.Equal(Seven, (await Store.GetScheduleAsync("s", default))!.NextRunAt);
    }

    [Fact]
    public async Task Schedule_Delete_RemovesItButNotTheJobsItEnqueued()
    {
        await Store.UpsertScheduleAsync(Schedule("s"), Seven, default);
        Assert.True(await Store.FireScheduleAsync(Fire("s", Seven, EightNextDay, Seven), default));

        Assert.True(await Store.DeleteScheduleAsync("s", default));
        Assert.False(await Store.DeleteScheduleAsync("s", default));

        Assert.Null(await Store.GetScheduleAsync("s", default));
        Assert.Single(await Store.ListAsync(new JobQuery(), default));
        Assert.False(await Store.FireScheduleAsync(Fire("s", EightNextDay, EightNextDay.AddDays(1), EightNextDay), default));
    }

    [Fact]
    public async Task Schedule_ListDue_ReturnsSchedulesNotPausedWhoseCursorIsAtOrBeforeNow()
    {
        await Store.UpsertScheduleAsync(Schedule("at-now"), Seven, default);
        await Store.UpsertScheduleAsync(Schedule("before"), Seven.AddMinutes(-5), default);
        await Store.UpsertScheduleAsync(Schedule("after"), Seven.AddTicks(TimeSpan.TicksPerSecond), default);
        await Store.UpsertScheduleAsync(Schedule("paused"), Seven.AddMinutes(-5), default);
        await Store.UpsertScheduleAsync(Schedule("never"), null, default);
        await Store.PauseScheduleAsync("paused", default);

        var due = await Store.ListDueSchedulesAsync(Seven, null, 100, default);

        Assert.Equal(["at-now", "before"], due.Select(s => s.Definition.Name));
    }

    [Fact]
    public async Task Schedule_ListDue_PagesByName()
    {
        foreach (var name in new[] { "e", "a", "d", "c", "b" })
        {
            await Store.UpsertScheduleAsync(Schedule(name), Seven, default);
        }

        var first = await Store.ListDueSchedulesAsync(Seven, null, 2, default);
        var second = await Store.ListDueSchedulesAsync(Seven, first[^1].Definition.Name, 2, default);
        var third = await Store.ListDueSchedulesAsync(Seven, second[^1].Definition.Name, 2, default);

        Assert.Equal(["a", "b", "c", "d", "e"], first.Concat(second).Concat(third).Select(s => s.Definition.Name));
    }

    [Fact]
    public async Task Schedule_NextRun_IsTheEarliestCursorAfterTheGivenTimeAmongSchedulesNotPaused()
    {
        Assert.Null(await Store.GetNextScheduleRunAsync(Seven, default));
        await Store.UpsertScheduleAsync(Schedule("due"), Seven, default);
        await Store.UpsertScheduleAsync(Schedule("paused"), Seven.AddMinutes(1), default);
        await Store.UpsertScheduleAsync(Schedule("later"), Seven.AddMinutes(2), default);
        await Store.UpsertScheduleAsync(Schedule("latest"), Seven.AddMinutes(3), default);
        await Store.PauseScheduleAsync("paused", default);

        Assert.Equal(Seven.AddMinutes(2), await Store.GetNextScheduleRunAsync(Seven, default));
    }

    [Fact]
    public async Task Schedule_Fire_MovesTheCursorAndInsertsTheJobsWithTheirKeys()
    {
        await Store.UpsertScheduleAsync(Schedule("s"), Seven, default);
        var fire = Fire("s", Seven, EightNextDay, Seven, Seven.AddMinutes(1));

        Assert.True(await Store.FireScheduleAsync(fire with { Jobs = [.. fire.Jobs.Select(j => j with { Queue = "reports", Priority = 7, Tags = ["t"] })] }, default));

        var schedule = await Store.GetScheduleAsync("s", default);
        Assert.Equal(EightNextDay, schedule!.NextRunAt);
        Assert.Equal(Seven.AddMinutes(1), schedule.LastRunAt);
        var jobs = await Store.ListAsync(new JobQuery(), default);
        Assert.Equal(
            ["schedule:s:2030-01-01T07:00:00.0000000Z", "schedule:s:2030-01-01T07:01:00.0000000Z"],
            jobs.Select(j => j.IdempotencyKey).Order(StringComparer.Ordinal));
        Assert.All(jobs, job =>
        {
            Assert.Equal((JobState.Available, "reports", 7, "cron_job"), (job.State, job.Queue, job.Priority, job.Type));
            Assert.Equal(["t"], job.Tags);
        });
    }

    [Fact]
    public async Task Schedule_FireAgainWithTheSameExpectedCursor_IsRefusedAndInsertsNothing()
    {
        await Store.UpsertScheduleAsync(Schedule("s"), Seven, default);
        Assert.True(await Store.FireScheduleAsync(Fire("s", Seven, EightNextDay, Seven), default));

        // A second leader that read the schedule before the first fired, with its own (other) occurrence.
        Assert.False(await Store.FireScheduleAsync(Fire("s", Seven, EightNextDay.AddDays(1), Seven.AddSeconds(1)), default));

        Assert.Equal(EightNextDay, (await Store.GetScheduleAsync("s", default))!.NextRunAt);
        Assert.Equal(["schedule:s:2030-01-01T07:00:00.0000000Z"], (await Store.ListAsync(new JobQuery(), default)).Select(j => j.IdempotencyKey));
    }

    [Fact]
    public async Task Schedule_ManyFiresAtOnceWithTheSameCursor_OneWins()
    {
        await Store.UpsertScheduleAsync(Schedule("s"), Seven, default);

        var results = await Task.WhenAll(Enumerable.Range(0, 8).Select(i => Task.Run(() =>
            Store.FireScheduleAsync(Fire("s", Seven, EightNextDay.AddSeconds(i), Seven.AddSeconds(i)), default))));

        Assert.Single(results, won => won);
        Assert.Single(await Store.ListAsync(new JobQuery(), default));
    }

    [Fact]
    public async Task Schedule_Fire_RefusedWhenPausedOrItsExpressionOrTimeZoneChanged()
    {
        await Store.UpsertScheduleAsync(Schedule("paused"), Seven, default);
        await Store.PauseScheduleAsync("paused", default);
        await Store.UpsertScheduleAsync(Schedule("changed"), Seven, default);

        Assert.False(await Store.FireScheduleAsync(Fire("paused", Seven, EightNextDay, Seven), default));
        Assert.False(await Store.FireScheduleAsync(Fire("changed", Seven, EightNextDay, Seven) with { Expression = "0 6 * * *" }, default));
        Assert.False(await Store.FireScheduleAsync(Fire("changed", Seven, EightNextDay, Seven) with { TimeZone = "Europe/Berlin" }, default));
        Assert.False(await Store.FireScheduleAsync(Fire("nobody", Seven, EightNextDay, Seven), default));

        Assert.Empty(await Store.ListAsync(new JobQuery(), default));
        Assert.Equal(Seven, (await Store.GetScheduleAsync("changed", default))!.NextRunAt);
    }

    [Fact]
    public async Task Schedule_FireWithoutJobs_MovesTheCursorAndKeepsTheLastRun()
    {
        await Store.UpsertScheduleAsync(Schedule("s"), Seven, default);
        Assert.True(await Store.FireScheduleAsync(Fire("s", Seven, Seven.AddDays(1), Seven), default));

        // A skipped misfire: the cursor moves, nothing is enqueued.
        Assert.True(await Store.FireScheduleAsync(Fire("s", Seven.AddDays(1), Seven.AddDays(2)), default));

        var schedule = await Store.GetScheduleAsync("s", default);
        Assert.Equal((Seven.AddDays(2), Seven), (schedule!.NextRunAt!.Value, schedule.LastRunAt!.Value));
        Assert.Single(await Store.ListAsync(new JobQuery(), default));
    }

    [Fact]
    public async Task Schedule_FireOfAnOccurrenceWhoseKeyIsStored_StoresNoSecondJob()
    {
        await Store.UpsertScheduleAsync(Schedule("s"), Seven, default);
        await InsertAsync(TestJobs.New(idempotencyKey: "schedule:s:2030-01-01T07:00:00.0000000Z"));

        Assert.True(await Store.FireScheduleAsync(Fire("s", Seven, EightNextDay, Seven), default));

        Assert.Single(await Store.ListAsync(new JobQuery(), default));
    }

    [Fact]
    public async Task Schedule_FireIntoAFullQueue_ThrowsAndLeavesTheCursor()
    {
        await Store.UpsertScheduleAsync(Schedule("s"), Seven, default);
        await InsertAsync(TestJobs.New(maxLength: 1));
        var fire = Fire("s", Seven, EightNextDay, Seven);

        await Assert.ThrowsAsync<QueueFullException>(() => Store.FireScheduleAsync(fire with { Jobs = [fire.Jobs[0] with { MaxLength = 1 }] }, default));

        Assert.Equal(Seven, (await Store.GetScheduleAsync("s", default))!.NextRunAt);
        Assert.Single(await Store.ListAsync(new JobQuery(), default));
    }

    private static ScheduleDefinition Schedule(string name) =>
        new(name, "0 7 * * *", "UTC", MisfirePolicy.Skip, "cron_job", "default", "{}", JobPriority.Normal, 3, TimeSpan.FromMinutes(5), [], null);

    /// <summary>A fire of the <see cref="Schedule"/> definition covering <paramref name="occurrences"/>, each with its job.</summary>
    private static ScheduleFire Fire(string name, DateTimeOffset expected, DateTimeOffset next, params DateTimeOffset[] occurrences)
    {
        var definition = Schedule(name);
        return new ScheduleFire(
            name,
            definition.Expression,
            definition.TimeZone,
            expected,
            next,
            occurrences.Length == 0 ? null : occurrences[^1],
            [.. occurrences.Select(o => TestJobs.New(type: "cron_job", idempotencyKey: ScheduleNames.OccurrenceKey(name, o)))]);
    }
}
