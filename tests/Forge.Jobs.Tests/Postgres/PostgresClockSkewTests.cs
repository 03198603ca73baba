using Forge.Jobs.Diagnostics;
using System.Diagnostics;
using System.Globalization;
using Forge.Jobs.Client;
using Forge.Jobs.Leadership;
using Forge.Jobs.Maintenance;
using Forge.Jobs.Retry;
using Forge.Jobs.Scheduling;
using Forge.Jobs.Serialization;
using Forge.Jobs.Storage;
using Forge.Jobs.Storage.Postgres;
using Forge.Jobs.Tests.Scheduling;
using Forge.Jobs.Tests.Support;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;

namespace Forge.Jobs.Tests.Postgres;

/// <summary>Nodes whose clocks are five minutes off the database's (their <see cref="TimeProvider"/> shifted, timers
/// real). Every time that nodes compare is the database's, so a skewed node neither runs a job early nor late, rescues
/// a live lease, nor enqueues a cron occurrence early or twice.</summary>
public sealed class PostgresClockSkewTests(PostgresDatabase database) : PostgresStoreFixture(database)
{
    private static readonly TimeSpan Skew = TimeSpan.FromMinutes(5);

    private readonly PostgresDatabase _database = database;

    [Theory]
    [InlineData(5)]
    [InlineData(-5)]
    public async Task DelayedJob_EnqueuedAndRunBySkewedNode_IsDueItsDelayAfterTheEnqueueOnTheDatabaseClock(int skewMinutes)
    {
        var schema = NewSchema("skew_delay");
        var recorder = new Recorder();
        recorder.Expect(1);
        await using var node = await TestNode.StartPostgresAsync(
            _database.ConnectionString, schema, f => f.AddHandler<PingHandler, Ping>(), s => s.AddSingleton(recorder), new ShiftedTimeProvider(TimeSpan.FromMinutes(skewMinutes)));

        var id = await node.Client.EnqueueAsync(new Ping(1), new JobOptions { Delay = TimeSpan.FromSeconds(1) });
        await Wait.For(recorder.AllRan.Task, "the delayed job to run");

        var job = (await (await StoreAsync(schema)).GetAsync(id, default))!;
        Assert.Equal(job.CreatedAt + TimeSpan.FromSeconds(1), job.RunAt);
        Assert.True(job.AttemptedAt >= job.RunAt, $"The job started at {job.AttemptedAt:O}, before its run-at {job.RunAt:O}.");
    }

    [Fact]
    public async Task Rescue_LeaderFiveMinutesAhead_LeavesALiveLeaseAndRescuesOnlyAnExpiredOne()
    {
        var store = await StoreAsync(NewSchema("skew_rescue"));
        await store.InsertManyAsync([TestJobs.New(), TestJobs.New()], default);
        var live = Assert.Single(await ClaimAsync(store, 1, TimeSpan.FromSeconds(30)));
        var expired = Assert.Single(await ClaimAsync(store, 1, TimeSpan.Zero));
        var fast = new ShiftedTimeProvider(Skew);
        var options = new ForgeJobsOptions();
        var leadership = new LeaderElection(store, options, fast, NullLogger.Instance);
        await leadership.RenewAsync(default);
        Assert.True(leadership.IsLeader);
        var rescuer = new JobRescuer(store, new RetryPolicy(new JobTypeRegistry(Options.Create(options))), leadership, new ForgeJobsMetrics(), options, fast, NullLogger.Instance);

        await rescuer.RescueAsync(default);

        Assert.Equal((JobState.Running, 1), await StateAsync(store, live.Id));
        Assert.Empty(await store.GetAttemptsAsync(live.Id, default));
        Assert.Equal(JobState.Retrying, (await StateAsync(store, expired.Id)).State);
        Assert.Empty((await store.ExtendLeasesAsync(NodeA, [new LeaseRef(live.Id, 1)], TimeSpan.FromSeconds(30), default)).Lost);
    }

    [Fact]
    public async Task Cron_ScheduleSetBySkewedNodes_FastLeaderEnqueuesNothingBeforeTheOccurrence()
    {
        var store = await StoreAsync(NewSchema("skew_cron_early"));
        var options = new ForgeJobsOptions();
        var registry = new JobTypeRegistry(Options.Create(options));
        var fast = new ShiftedTimeProvider(Skew);
        var slow = new ShiftedTimeProvider(-Skew);

        // Cursors come from the database's clock whichever node sets them: the next minute after its now.
        var before = await store.GetTimeAsync(default);
        var setFast = await new JobClient(store, registry, cron: new CronContext(fast)).AddOrUpdateScheduleAsync("fast-set", "* * * * *", new CronTick("f"));
        var setSlow = await new JobClient(store, registry, cron: new CronContext(slow)).AddOrUpdateScheduleAsync("slow-set", "* * * * *", new CronTick("s"));
        var after = await store.GetTimeAsync(default);
        Assert.All([setFast.NextRunAt!.Value, setSlow.NextRunAt!.Value], next => Assert.InRange(next, before, after + TimeSpan.FromMinutes(1)));

        var scheduler = new CronScheduler(store, () => true, new CronContext(fast), registry, options, NullLogger.Instance);
        var wakeAt = await scheduler.PassAsync(default);

        var occurrences = (await CronTestSupport.OccurrencesAsync(store, "fast-set")).Concat(await CronTestSupport.OccurrencesAsync(store, "slow-set"));
        Assert.Empty(occurrences);
        Assert.True(wakeAt - fast.GetUtcNow() <= TimeSpan.FromMinutes(1), $"The fast leader means to look again in {wakeAt - fast.GetUtcNow()}.");
    }

    [Fact]
    public async Task Cron_TwoLeadersFiveMinutesAheadAndBehind_EnqueueEachOccurrenceOnceAndNoneEarly()
    {
        var schema = NewSchema("skew_cron_two");
        var fastStore = await StoreAsync(schema);
        var slowStore = await StoreAsync(schema);
        var options = new ForgeJobsOptions();
        var registry = new JobTypeRegistry(Options.Create(options));
        var fast = new CronContext(new ShiftedTimeProvider(Skew));
        var slow = new CronContext(new ShiftedTimeProvider(-Skew));
        var schedule = await new JobClient(slowStore, registry, cron: slow).AddOrUpdateScheduleAsync("every-second", "* * * * * *", new CronTick("t"));
        var first = schedule.NextRunAt!.Value.ToUniversalTime();

        // Both believe they lead, and both run their scheduling loop, each on its own clock and its own connection.
        using var stop = new CancellationTokenSource();
        var loops = new[]
        {
            new CronScheduler(fastStore, () => true, fast, registry, options, NullLogger.Instance).RunAsync(stop.Token),
            new CronScheduler(slowStore, () => true, slow, registry, options, NullLogger.Instance).RunAsync(stop.Token),
        };
        var waited = Stopwatch.StartNew();
        IReadOnlyList<DateTimeOffset> occurrences;
        while ((occurrences = await CronTestSupport.OccurrencesAsync(fastStore, "every-second")).Count < 3)
        {
            Assert.True(waited.Elapsed < Wait.Timeout, $"Only {occurrences.Count} occurrences were enqueued in {Wait.Timeout.TotalSeconds} s.");
            await Task.Delay(50);
        }

        await stop.CancelAsync();
        await Wait.For(Task.WhenAll(loops), "the scheduling loops to stop");

        occurrences = await CronTestSupport.OccurrencesAsync(fastStore, "every-second");
        Assert.Equal(Enumerable.Range(0, occurrences.Count).Select(s => first.AddSeconds(s)), occurrences);
        var jobs = await fastStore.ListAsync(new JobQuery { Limit = 1000 }, default);
        Assert.Equal(occurrences.Count, jobs.Count);
        Assert.All(jobs, job =>
        {
            var occurrence = DateTimeOffset.Parse(job.IdempotencyKey!["schedule:every-second:".Length..], CultureInfo.InvariantCulture, DateTimeStyles.RoundtripKind);
            Assert.True(job.CreatedAt >= occurrence, $"The occurrence {occurrence:O} was enqueued early, at {job.CreatedAt:O} on the database clock.");
        });
    }

    private static async Task<(JobState State, int Attempt)> StateAsync(PostgresJobStore store, JobId id)
    {
        var job = (await store.GetAsync(id, default))!;
        return (job.State, job.Attempt);
    }
}
