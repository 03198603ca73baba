using Forge.Jobs.Storage;
using Forge.Jobs.Storage.InMemory;
using Forge.Jobs.Tests.Support;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;

namespace Forge.Jobs.Tests.Processing;

/// <summary>The engine on the in-memory store with a fake clock: when delayed and retrying jobs run, priority order,
/// weighted queues under a node cap, and queue settings changed while the node runs.</summary>
public sealed class QueueEngineTests
{
    private static readonly TimeSpan AnHour = TimeSpan.FromHours(1);

    private readonly FakeTimeProvider _clock = new(new DateTimeOffset(2026, 1, 1, 0, 0, 0, TimeSpan.Zero));
    private readonly Gates _gates = new();
    private readonly StartOrder _order = new();
    private readonly Recorder _recorder = new();

    [Fact]
    public async Task Engine_DelayedJob_RunsWhenTheClockReachesItsRunAt_ThoughThePollIntervalIsAnHour()
    {
        var store = NewStore();
        await using var node = await StartAsync(store, f => f.Configure(o => o.PollInterval = AnHour).AddHandler<PingHandler, Ping>());
        var id = await node.Client.EnqueueAsync(new Ping(1), new JobOptions { Delay = TimeSpan.FromMinutes(5) });
        var runAt = (await node.Client.GetJobAsync(id))!.RunAt;

        _clock.Advance(TimeSpan.FromMinutes(5));
        await store.UntilStateAsync(id, JobState.Succeeded);

        Assert.Equal(runAt, (await node.Client.GetJobAsync(id))!.AttemptedAt);
    }

    [Fact]
    public async Task Engine_JobsStoredToRunLater_BeforeTheNodeStarts_RunEachOnTime()
    {
        var store = NewStore();
        var later = (await store.InsertManyAsync([TestJobs.New(type: "ping", payload: """{"n":2}""", delay: TimeSpan.FromMinutes(10))], default))[0].Id;
        var sooner = (await store.InsertManyAsync([TestJobs.New(type: "ping", payload: """{"n":1}""", delay: TimeSpan.FromMinutes(3))], default))[0].Id;
        await using var node = await StartAsync(store, f => f.Configure(o => o.PollInterval = AnHour).AddHandler<PingHandler, Ping>());

        _clock.Advance(TimeSpan.FromMinutes(3));
        await store.UntilStateAsync(sooner, JobState.Succeeded);
        var laterWhenTheFirstRan = (await store.GetAsync(later, default))!.State;
        _clock.Advance(TimeSpan.FromMinutes(7));
        await store.UntilStateAsync(later, JobState.Succeeded);

        Assert.Equal(JobState.Scheduled, laterWhenTheFirstRan);
        Assert.Equal(_clock.Start.AddMinutes(10), (await store.GetAsync(later, default))!.AttemptedAt);
    }

    [Fact]
    public async Task Engine_RetryingJob_RunsWhenItsBackoffEnds_ThoughThePollIntervalIsAnHour()
    {
        var store = NewStore();
        var backoff = new RetryBackoff { InitialDelay = TimeSpan.FromSeconds(30), Jitter = 0 };
        await using var node = await StartAsync(store, f => f.Configure(o => o.PollInterval = AnHour).AddHandler<FailsOnceHandler, FailsOnce>(t => t.Backoff = backoff));
        var id = await node.Client.EnqueueAsync(new FailsOnce());
        await store.UntilStateAsync(id, JobState.Retrying);

        _clock.Advance(TimeSpan.FromSeconds(30));
        await store.UntilStateAsync(id, JobState.Succeeded);

        Assert.Equal([AttemptOutcome.Failed, AttemptOutcome.Succeeded], (await node.Client.GetAttemptsAsync(id)).Select(a => a.Outcome));
    }

    [Fact]
    public async Task Engine_OneExecutor_RunsJobsByPriority_ThenInInsertionOrder()
    {
        var store = NewStore();
        await using var node = await StartAsync(store, f => f.AddQueue("default", q => q.Concurrency = 1).AddHandler<OrderedHandler, Ordered>());
        int[] priorities = [5, 1, 9, 5, JobPriority.High, JobPriority.Min, JobPriority.Critical, 7, 5, JobPriority.Low, 3];
        _order.Expect(priorities.Length);
        await node.Client.PauseQueueAsync("default");
        for (var n = 0; n < priorities.Length; n++)
        {
            await node.Client.EnqueueAsync(new Ordered(n), new JobOptions { Priority = priorities[n] });
        }

        await node.Client.ResumeQueueAsync("default");
        await Wait.For(_order.AllStarted.Task, "every job to start");

        var expected = Enumerable.Range(0, priorities.Length).OrderByDescending(n => priorities[n]).ThenBy(n => n);
        Assert.Equal(expected, _order.Started);
    }

    [Fact]
    public async Task Engine_NodeCap_GivesTheHeavierQueueItsShare_WhileBothHaveJobs()
    {
        var store = NewStore();
        await store.InsertManyAsync([.. Enumerable.Range(0, 100).Select(n => Gates.New("bulk", n)), .. Enumerable.Range(1000, 100).Select(n => Gates.New("vip", n))], default);
        await using var node = await StartAsync(store, f => f
            .Configure(o => o.MaxConcurrency = 10)
            .AddQueue("bulk", q => { q.Concurrency = 10; q.Weight = 1; })
            .AddQueue("vip", q => { q.Concurrency = 10; q.Weight = 9; })
            .AddHandler<GatedHandler, Gated>(t => t.Queue = "bulk"));

        var running = new Queue<int>((await _gates.NextStartsAsync(10, "the node to fill its ten slots")).Select(s => s.N));
        var first = (_gates.RunningIn("bulk"), _gates.RunningIn("vip"));
        var starts = new List<(string Queue, int N)>();
        for (var i = 0; i < 50; i++)
        {
            _gates.Release(running.Dequeue());
            var next = await _gates.NextStartAsync("a job to take the freed slot");
            starts.Add(next);
            running.Enqueue(next.N);
        }

        Assert.Equal((1, 9), first);
        Assert.Equal((5, 45), (starts.Count(s => s.Queue == "bulk"), starts.Count(s => s.Queue == "vip")));
        Assert.Equal(10, _gates.MaxRunning);
    }

    [Fact]
    public async Task Engine_NodeCap_SlotsAQueueCannotUse_GoToTheOthersWithoutWaitingForAPoll()
    {
        var store = NewStore();
        await store.InsertManyAsync([.. Enumerable.Range(0, 30).Select(n => Gates.New("bulk", n)), .. Enumerable.Range(1000, 3).Select(n => Gates.New("vip", n))], default);
        await using var node = await StartAsync(store, f => f
            .Configure(o => { o.MaxConcurrency = 10; o.PollInterval = AnHour; })
            .AddQueue("bulk", q => { q.Concurrency = 10; q.Weight = 1; })
            .AddQueue("vip", q => { q.Concurrency = 10; q.Weight = 9; })
            .AddHandler<GatedHandler, Gated>(t => t.Queue = "bulk"));

        await _gates.NextStartsAsync(10, "the node to fill its ten slots");

        Assert.Equal((7, 3), (_gates.RunningIn("bulk"), _gates.RunningIn("vip")));
    }

    [Fact]
    public async Task Engine_ConcurrencySetThroughThisProcess_AppliesAtOnce_AndNullRestoresTheConfiguredValue()
    {
        var store = NewStore();
        var ids = await store.InsertManyAsync([.. Enumerable.Range(0, 20).Select(n => Gates.New("default", n))], default);
        await using var node = await StartAsync(store, f => f.AddQueue("default", q => q.Concurrency = 2).AddHandler<GatedHandler, Gated>());
        var started = await _gates.NextStartsAsync(2, "two jobs to start");

        await node.Client.SetQueueConcurrencyAsync("default", 5);
        started.AddRange(await _gates.NextStartsAsync(3, "three more jobs to start at the raised concurrency"));
        var raised = _gates.RunningIn("default");
        await node.Client.SetQueueConcurrencyAsync("default", null);
        await ReleaseAndFinishAsync(store, started, ids);
        await RunOneAtATimeAsync(6);

        Assert.Equal(5, raised);
        Assert.Equal(2, _gates.MaxRunning);
    }

    [Fact]
    public async Task Engine_ConcurrencyLowered_RunningJobsFinish_AndNoneStartsUntilFewerRun()
    {
        var store = NewStore();
        var ids = await store.InsertManyAsync([.. Enumerable.Range(0, 10).Select(n => Gates.New("default", n))], default);
        await using var node = await StartAsync(store, f => f.AddQueue("default", q => q.Concurrency = 4).AddHandler<GatedHandler, Gated>());
        var running = await _gates.NextStartsAsync(4, "four jobs to start");

        await node.Client.SetQueueConcurrencyAsync("default", 1);
        await ReleaseAndFinishAsync(store, running, ids);
        await RunOneAtATimeAsync(6);

        Assert.Equal(1, _gates.MaxRunning);
    }

    [Fact]
    public async Task Engine_ConcurrencySetThroughTheStore_ReachesTheNodeAtItsNextHeartbeat()
    {
        var store = NewStore();
        await store.InsertManyAsync([.. Enumerable.Range(0, 10).Select(n => Gates.New("default", n))], default);
        await using var node = await StartAsync(store, f => f.AddQueue("default", q => q.Concurrency = 1).AddHandler<GatedHandler, Gated>());
        await _gates.NextStartAsync("the first job to start");

        // As another process's client would: only the store learns of it.
        await store.SetQueueConcurrencyAsync("default", 3, default);
        _clock.Advance(new ForgeJobsOptions().LeaseRenewInterval);
        await _gates.NextStartsAsync(2, "two more jobs to start after the heartbeat");

        Assert.Equal(3, _gates.RunningIn("default"));
    }

    [Fact]
    public async Task Engine_GlobalLimit_IsNeverPassed_AndEveryJobFinishes()
    {
        var store = NewStore();
        _recorder.Limit = 2;
        _recorder.Expect(12);
        await using var node = await StartAsync(store, f => f.AddQueue("default", q => q.Concurrency = 6).AddHandler<CountedHandler, Counted>());
        await node.Client.SetQueueGlobalLimitAsync("default", 2);

        await node.Client.EnqueueManyAsync(Enumerable.Range(0, 12).Select(n => new Counted(n)));
        await Wait.For(_recorder.Full.Task, "two jobs to run at once");
        var claims = store.Claims;
        await store.UntilAsync(() => Task.FromResult(store.Claims > claims + 2), "more claims while at the limit", _clock);
        var runningAtTheLimit = (await node.Client.ListQueuesAsync()).Single().Counts[JobState.Running];
        _recorder.Gate.SetResult();
        await Wait.For(_recorder.AllRan.Task, "every job to run");

        Assert.Equal(2, runningAtTheLimit);
        Assert.Equal(2, _recorder.MaxConcurrent);
    }

    [Fact]
    public async Task Node_ConcurrencyChangedOverAndOverWhileJobsRunAndTheNodeStops_AlwaysStopsAndLosesNothing()
    {
        await Task.WhenAll(Enumerable.Range(0, 4).Select(_ => Task.Run(async () =>
        {
            var store = new WatchedStore(new InMemoryJobStore(TimeProvider.System));
            var recorder = new Recorder();
            for (var cycle = 0; cycle < 5; cycle++)
            {
                var node = await TestNode.StartAsync(store, f => f.AddHandler<PingHandler, Ping>(), TimeProvider.System, s => s.AddSingleton(recorder));
                var client = node.Client;
                await client.EnqueueManyAsync(Enumerable.Range(cycle * 100, 100).Select(n => new Ping(n)));
                var changing = Task.Run(async () =>
                {
                    for (var i = 0; i < 40; i++)
                    {
                        await client.SetQueueConcurrencyAsync("default", i % 2 == 0 ? 1 : 8);
                    }
                });
                if (cycle % 2 == 0)
                {
                    await changing;
                    await store.UntilAsync(async () => (await store.ListAsync(new JobQuery { State = JobState.Succeeded, Limit = 1000 }, default)).Count == (cycle + 1) * 100, "every job of the cycle to succeed");
                    await node.DisposeAsync();
                }
                else
                {
                    await node.DisposeAsync();
                    await changing;
                }
            }

            var jobs = await store.ListAsync(new JobQuery { Limit = 1000 }, default);
            Assert.Equal(500, jobs.Count);
            Assert.All(jobs, j => Assert.True(j.State is JobState.Succeeded or JobState.Available, $"job {j.Id} is {j.State.ToName()}"));
            Assert.All(recorder.Runs, run => Assert.Equal(1, run.Value));
        })));
    }

    private WatchedStore NewStore() => new(new InMemoryJobStore(_clock));

    /// <summary>Lets the given jobs finish and waits until they have, then counts running jobs afresh.</summary>
    private async Task ReleaseAndFinishAsync(WatchedStore store, IEnumerable<(string Queue, int N)> jobs, IReadOnlyList<InsertedJob> ids)
    {
        foreach (var (_, n) in jobs)
        {
            _gates.Release(n);
            await store.UntilStateAsync(ids[n].Id, JobState.Succeeded);
        }

        _gates.ResetMax();
    }

    /// <summary>Waits for each of the next <paramref name="count"/> jobs to start and lets it finish.</summary>
    private async Task RunOneAtATimeAsync(int count)
    {
        for (var i = 0; i < count; i++)
        {
            _gates.Release((await _gates.NextStartAsync("the next job to start")).N);
        }
    }

    /// <summary>A node whose shutdown cancels the jobs still held at the end of a test at once (its clock does not move).</summary>
    private Task<TestNode> StartAsync(WatchedStore store, Action<ForgeJobsBuilder> configure) =>
        TestNode.StartAsync(store, f => configure(f.Configure(o => o.ShutdownTimeout = TimeSpan.Zero)), _clock, s => s.AddSingleton(_gates).AddSingleton(_order).AddSingleton(_recorder));
}
