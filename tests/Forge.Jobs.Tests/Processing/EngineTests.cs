using Forge.Jobs.Storage;
using Forge.Jobs.Storage.InMemory;
using Forge.Jobs.Tests.Support;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;

namespace Forge.Jobs.Tests.Processing;

public sealed class EngineTests
{
    private readonly FakeTimeProvider _clock = new(new DateTimeOffset(2026, 1, 1, 0, 0, 0, TimeSpan.Zero));
    private readonly Recorder _recorder = new();

    [Fact]
    public async Task Engine_TenThousandJobsEnqueuedInOneCall_EachHandledExactlyOnce()
    {
        var store = new WatchedStore(new InMemoryJobStore(TimeProvider.System));
        await using var node = await StartAsync(store, f => f.AddQueue("default", q => q.Concurrency = 32).AddHandler<PingHandler, Ping>(), TimeProvider.System);
        _recorder.Expect(10_000);

        var ids = await node.Client.EnqueueManyAsync(Enumerable.Range(0, 10_000).Select(n => new Ping(n)));
        await Wait.For(_recorder.AllRan.Task, "every job to run");
        await store.UntilAsync(() => Task.FromResult(store.Completed >= 10_000), "10,000 outcomes to be stored");

        Assert.Equal(10_000, ids.Distinct().Count());
        Assert.Equal(10_000, _recorder.Runs.Count);
        Assert.All(_recorder.Runs, run => Assert.Equal(1, run.Value));
        foreach (var id in ids)
        {
            var job = await store.GetAsync(id, default);
            Assert.Equal((JobState.Succeeded, 1), (job!.State, job.Attempt));
        }
    }

    [Fact]
    public async Task Engine_FailingJob_RetriesWithBackoffThenDies()
    {
        var store = NewStore();
        await using var node = await StartAsync(store, f => f.AddHandler<AlwaysFailsHandler, AlwaysFails>(t => t.MaxRetries = 2));

        var id = await node.Client.EnqueueAsync(new AlwaysFails());
        await store.UntilStateAsync(id, JobState.Retrying);
        var retrying = await node.Client.GetJobAsync(id);
        var firstFailure = Assert.Single(await node.Client.GetAttemptsAsync(id));
        await store.UntilStateAsync(id, JobState.Dead, _clock);

        var delay = retrying!.RunAt - firstFailure.FinishedAt;
        Assert.InRange(delay, TimeSpan.FromSeconds(0.8), TimeSpan.FromSeconds(1.2));
        var attempts = await node.Client.GetAttemptsAsync(id);
        Assert.Equal([1, 2, 3], attempts.Select(a => a.Attempt));
        Assert.All(attempts, a => Assert.Equal(AttemptOutcome.Failed, a.Outcome));
        Assert.Contains("always fails (attempt 3)", attempts[2].Error, StringComparison.Ordinal);
        var dead = await node.Client.GetJobAsync(id);
        Assert.Equal(3, dead!.Attempt);
        Assert.Contains("InvalidOperationException", dead.LastError, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Engine_JobThatFailsOnce_SucceedsOnItsSecondAttempt()
    {
        var store = NewStore();
        await using var node = await StartAsync(store, f => f.AddHandler<FailsOnceHandler, FailsOnce>());

        var id = await node.Client.EnqueueAsync(new FailsOnce());
        await store.UntilStateAsync(id, JobState.Succeeded, _clock);

        Assert.Equal([AttemptOutcome.Failed, AttemptOutcome.Succeeded], (await node.Client.GetAttemptsAsync(id)).Select(a => a.Outcome));
    }

    [Fact]
    public async Task Engine_DeadJobRetriedByHand_RunsOnceMore()
    {
        var store = NewStore();
        await using var node = await StartAsync(store, f => f.AddHandler<AlwaysFailsHandler, AlwaysFails>(t => t.MaxRetries = 0));
        var id = await node.Client.EnqueueAsync(new AlwaysFails());
        await store.UntilStateAsync(id, JobState.Dead);

        Assert.True(await node.Client.RetryAsync(id));
        await store.UntilAsync(async () => (await node.Client.GetAttemptsAsync(id)).Count == 2, "the second attempt");

        Assert.Equal(JobState.Dead, (await node.Client.GetJobAsync(id))!.State);
    }

    [Fact]
    public async Task Engine_AttemptPastItsTimeout_HasItsTokenFiredAndFails()
    {
        var store = NewStore();
        await using var node = await StartAsync(store, f => f.AddHandler<BlockingHandler, Blocking>());

        var id = await node.Client.EnqueueAsync(new Blocking(), new JobOptions { Timeout = TimeSpan.FromSeconds(5), MaxRetries = 0 });
        await Wait.For(_recorder.Started.Task, "the handler to start");
        await store.UntilStateAsync(id, JobState.Dead, _clock);

        Assert.True(_recorder.TokenFired.Task.IsCompleted);
        Assert.Contains("timeout of 00:00:05", Assert.Single(await node.Client.GetAttemptsAsync(id)).Error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Engine_HandlerThatIgnoresItsToken_IsAbandonedAndTheQueueMovesOn()
    {
        var store = NewStore();
        await using var node = await StartAsync(store, f => f
            .AddQueue("default", q => q.Concurrency = 1)
            .AddHandler<HungHandler, Hung>(t => { t.Timeout = TimeSpan.FromSeconds(5); t.MaxRetries = 0; })
            .AddHandler<PingHandler, Ping>());

        var hung = await node.Client.EnqueueAsync(new Hung(), new JobOptions { Priority = JobPriority.High });
        var ping = await node.Client.EnqueueAsync(new Ping(1));
        await store.UntilStateAsync(ping, JobState.Succeeded, _clock);

        Assert.Equal(JobState.Dead, (await node.Client.GetJobAsync(hung))!.State);
    }

    [Fact]
    public async Task Engine_TypeWithoutHandler_FailsWithAClearError()
    {
        var store = NewStore();
        await using var node = await StartAsync(store, f => { });

        var id = await node.Client.EnqueueAsync(new Unhandled(), new JobOptions { MaxRetries = 0 });
        await store.UntilStateAsync(id, JobState.Dead);

        Assert.Contains("No handler is registered for job type 'unhandled'", (await node.Client.GetJobAsync(id))!.LastError, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Engine_PayloadThatDoesNotDeserialize_FailsWithAClearError()
    {
        var store = NewStore();
        await using var node = await StartAsync(store, f => f.AddHandler<PingHandler, Ping>());

        var id = (await store.InsertManyAsync([TestJobs.New(type: "ping", payload: "[1, 2]", maxRetries: 0)], default))[0].Id;
        await store.UntilStateAsync(id, JobState.Dead);

        Assert.Contains("does not deserialize to Forge.Jobs.Tests.Support.Ping", (await node.Client.GetJobAsync(id))!.LastError, StringComparison.Ordinal);
        Assert.Empty(_recorder.Runs);
    }

    [Fact]
    public async Task Engine_HandlerWithResult_StoresItForTheClient()
    {
        var store = NewStore();
        await using var node = await StartAsync(store, f => f.AddHandler<SumHandler, Sum, int>());

        var id = await node.Client.EnqueueAsync(new Sum(2, 3));
        await store.UntilStateAsync(id, JobState.Succeeded);

        Assert.Equal(5, await node.Client.GetResultAsync<int>(id));
    }

    [Fact]
    public async Task Engine_RunningJobCancelled_HasItsTokenFiredAndEndsCancelled()
    {
        var store = NewStore();
        await using var node = await StartAsync(store, f => f.AddHandler<BlockingHandler, Blocking>());
        var id = await node.Client.EnqueueAsync(new Blocking());
        await Wait.For(_recorder.Started.Task, "the handler to start");

        Assert.Equal(CancelResult.CancellationRequested, await node.Client.CancelAsync(id));
        await store.UntilStateAsync(id, JobState.Cancelled);

        Assert.True(_recorder.TokenFired.Task.IsCompleted);
        Assert.Equal(AttemptOutcome.Cancelled, Assert.Single(await node.Client.GetAttemptsAsync(id)).Outcome);
    }

    [Fact]
    public async Task Engine_ScheduledJobCancelled_NeverRuns()
    {
        var store = NewStore();
        await using var node = await StartAsync(store, f => f.AddHandler<PingHandler, Ping>());
        var cancelled = await node.Client.EnqueueAsync(new Ping(1), new JobOptions { Delay = TimeSpan.FromMinutes(1) });
        var later = await node.Client.EnqueueAsync(new Ping(2), new JobOptions { Delay = TimeSpan.FromMinutes(2) });

        Assert.Equal(CancelResult.Cancelled, await node.Client.CancelAsync(cancelled));
        await store.UntilStateAsync(later, JobState.Succeeded, _clock, TimeSpan.FromSeconds(10));

        Assert.Equal([2], _recorder.Runs.Keys);
        Assert.Equal(JobState.Cancelled, (await node.Client.GetJobAsync(cancelled))!.State);
    }

    [Fact]
    public async Task Engine_ConcurrencyLimitOfAQueue_IsNeverExceeded()
    {
        var store = NewStore();
        _recorder.Limit = 3;
        _recorder.Expect(30);
        await using var node = await StartAsync(store, f => f.AddQueue("limited", q => q.Concurrency = 3).AddHandler<CountedHandler, Counted>(t => t.Queue = "limited"));

        await node.Client.EnqueueManyAsync(Enumerable.Range(0, 30).Select(n => new Counted(n)));
        await Wait.For(_recorder.Full.Task, "three handlers to run at once");
        _recorder.Gate.SetResult();
        await Wait.For(_recorder.AllRan.Task, "all 30 jobs to run");

        Assert.Equal(3, _recorder.MaxConcurrent);
    }

    [Fact]
    public async Task Engine_LongJob_KeepsItsLeaseAndIsNeverRescued()
    {
        var store = NewStore();
        await using var node = await StartAsync(store, f => f.AddHandler<BlockingHandler, Blocking>());
        var id = await node.Client.EnqueueAsync(new Blocking(), new JobOptions { Timeout = TimeSpan.FromHours(1) });
        await Wait.For(_recorder.Started.Task, "the handler to start");

        for (var i = 0; i < 12; i++)
        {
            var renewals = store.Renewals;
            await store.UntilAsync(() => Task.FromResult(store.Renewals > renewals), "a lease renewal", _clock, TimeSpan.FromSeconds(10));
        }

        Assert.Equal((JobState.Running, 1), ((await node.Client.GetJobAsync(id))!.State, (await node.Client.GetJobAsync(id))!.Attempt));
        _recorder.Gate.SetResult();
        await store.UntilStateAsync(id, JobState.Succeeded);
        Assert.Equal(AttemptOutcome.Succeeded, Assert.Single(await node.Client.GetAttemptsAsync(id)).Outcome);
    }

    [Fact]
    public async Task Engine_JobOfADeadNode_IsRescuedAndRunsAgain()
    {
        var store = NewStore();
        var id = (await store.InsertManyAsync([TestJobs.New(type: "ping", payload: """{"n":7}""")], default))[0].Id;
        Assert.Single(await store.ClaimAsync(new ClaimRequest("dead-node", TimeSpan.FromSeconds(30), [new QueueLimit("default", 1)]), default));
        await using var node = await StartAsync(store, f => f.AddHandler<PingHandler, Ping>());

        await store.UntilStateAsync(id, JobState.Succeeded, _clock, TimeSpan.FromSeconds(5));

        var attempts = await node.Client.GetAttemptsAsync(id);
        Assert.Equal([("dead-node", AttemptOutcome.LeaseExpired), (node.Node.NodeId, AttemptOutcome.Succeeded)], attempts.Select(a => (a.Node, a.Outcome)));
    }

    [Fact]
    public async Task Engine_LeaseLostWhileRunning_FiresTheTokenAndTheStaleOutcomeChangesNothing()
    {
        var store = NewStore();
        await using var node = await StartAsync(store, f => f.AddHandler<BlockingHandler, Blocking>());
        var id = await node.Client.EnqueueAsync(new Blocking());
        await Wait.For(_recorder.Started.Task, "the handler to start");

        // Another actor ends this attempt behind the node's back, as a rescuer would after a long pause.
        var stolen = new Completion(id, node.Node.NodeId, 1, CompletionOutcome.Retry, Error: "taken away", RetryDelay: TimeSpan.FromHours(1));
        Assert.Empty(await store.Inner.CompleteManyAsync([stolen], default));
        var renewals = store.Renewals;
        await store.UntilAsync(() => Task.FromResult(store.Renewals > renewals), "a lease renewal", _clock, TimeSpan.FromSeconds(10));
        await Wait.For(_recorder.TokenFired.Task, "the handler's token to fire");
        await store.UntilAsync(() => Task.FromResult(store.Refused > 0), "the stale outcome to reach the store and be refused");

        var job = await node.Client.GetJobAsync(id);
        Assert.Equal((JobState.Retrying, "taken away"), (job!.State, job.LastError));
    }

    [Fact]
    public async Task Shutdown_WaitsForRunningJobsToFinish()
    {
        var store = NewStore();
        var node = await StartAsync(store, f => f.AddHandler<BlockingHandler, Blocking>(), TimeProvider.System);
        var id = await node.Client.EnqueueAsync(new Blocking());
        await Wait.For(_recorder.Started.Task, "the handler to start");

        var stopping = node.StopAsync();
        Assert.False(stopping.IsCompleted);
        _recorder.Gate.SetResult();
        await stopping;
        await node.DisposeAsync();

        Assert.Equal(JobState.Succeeded, (await store.GetAsync(id, default))!.State);
        Assert.False(_recorder.TokenFired.Task.IsCompleted);
    }

    [Fact]
    public async Task Shutdown_PastItsTimeout_CancelsRunningJobsAndHandsThemBack()
    {
        var store = NewStore();
        var node = await StartAsync(store, f => f.Configure(o => o.ShutdownTimeout = TimeSpan.FromMilliseconds(100)).AddHandler<BlockingHandler, Blocking>(), TimeProvider.System);
        var id = await node.Client.EnqueueAsync(new Blocking());
        await Wait.For(_recorder.Started.Task, "the handler to start");

        await node.DisposeAsync();

        Assert.True(_recorder.TokenFired.Task.IsCompleted);
        var job = await store.GetAsync(id, default);
        Assert.Equal((JobState.Available, 1), (job!.State, job.Attempt));
        Assert.Equal(AttemptOutcome.Interrupted, Assert.Single(await store.GetAttemptsAsync(id, default)).Outcome);
    }

    [Fact]
    public async Task Shutdown_HandBack_DoesNotUseUpTheJobsRetries()
    {
        var store = NewStore();
        var node = await StartAsync(store, f => f.Configure(o => o.ShutdownTimeout = TimeSpan.Zero).AddHandler<BlockingHandler, Blocking>(t => t.MaxRetries = 0), TimeProvider.System);
        var id = await node.Client.EnqueueAsync(new Blocking());
        await Wait.For(_recorder.Started.Task, "the handler to start");
        await node.DisposeAsync();
        Assert.Equal(JobState.Available, (await store.GetAsync(id, default))!.State);

        var next = await store.ClaimAsync(new ClaimRequest("next-node", TimeSpan.FromMinutes(1), [new QueueLimit("default", 1)]), default);

        Assert.Equal((2, 0), (Assert.Single(next).Attempt, next[0].Failures));
    }

    [Fact]
    public async Task Drain_FinishesHeldJobsAndClaimsNoNewOnes()
    {
        var store = NewStore();
        await using var node = await StartAsync(store, f => f.AddHandler<BlockingHandler, Blocking>().AddHandler<PingHandler, Ping>(), TimeProvider.System);
        var held = await node.Client.EnqueueAsync(new Blocking());
        await Wait.For(_recorder.Started.Task, "the handler to start");

        var draining = node.Node.DrainAsync();
        Assert.True(node.Node.IsDraining);
        var late = await node.Client.EnqueueAsync(new Ping(1));
        _recorder.Gate.SetResult();
        await Wait.For(draining, "the drain to finish");

        Assert.Equal(JobState.Succeeded, (await store.GetAsync(held, default))!.State);
        Assert.Equal(JobState.Available, (await store.GetAsync(late, default))!.State);
        Assert.Empty(_recorder.Runs);
    }

    [Fact]
    public async Task Node_RegistersItselfLeadsAloneAndLeavesOnStop()
    {
        var store = NewStore();
        var node = await StartAsync(store, f => f.AddQueue("emails").AddHandler<PingHandler, Ping>());

        var listed = Assert.Single(await node.Client.ListNodesAsync());
        Assert.Equal((node.Node.NodeId, true, false), (listed.Id, listed.IsLeader, listed.IsDraining));
        Assert.Equal(["default", "emails"], listed.Queues.Order());

        await node.DisposeAsync();
        Assert.Empty(await store.ListNodesAsync(default));
    }

    [Fact]
    public async Task Node_AskedToDrainThroughTheStore_StopsClaiming()
    {
        var store = NewStore();
        await using var node = await StartAsync(store, f => f.AddHandler<PingHandler, Ping>());

        Assert.True(await node.Client.DrainNodeAsync(node.Node.NodeId));
        await store.UntilAsync(() => Task.FromResult(node.Node.IsDraining), "the node to drain", _clock, TimeSpan.FromSeconds(5));
        var late = await node.Client.EnqueueAsync(new Ping(1));

        Assert.Equal(JobState.Available, (await node.Client.GetJobAsync(late))!.State);
        Assert.Empty(_recorder.Runs);
    }

    [Fact]
    public async Task Leader_PrunesFinishedJobsPastTheirRetention()
    {
        var store = NewStore();
        await using var node = await StartAsync(store, f => f.Configure(o => o.SucceededRetention = TimeSpan.FromMinutes(5)).AddHandler<PingHandler, Ping>());
        var id = await node.Client.EnqueueAsync(new Ping(1));
        await store.UntilStateAsync(id, JobState.Succeeded);

        await store.UntilAsync(async () => await node.Client.GetJobAsync(id) is null, "the job to be pruned", _clock, TimeSpan.FromSeconds(10));

        Assert.Empty(await node.Client.GetAttemptsAsync(id));
    }

    [Fact]
    public async Task PausedQueue_IsNotClaimedUntilResumed()
    {
        var store = NewStore();
        await using var node = await StartAsync(store, f => f.AddHandler<PingHandler, Ping>(), TimeProvider.System);
        await node.Client.PauseQueueAsync("default");
        var id = await node.Client.EnqueueAsync(new Ping(1));
        var claims = store.Claims;
        await store.UntilAsync(() => Task.FromResult(store.Claims > claims + 1), "two claims after the enqueue (the second surely began after it)");
        Assert.Equal(JobState.Available, (await node.Client.GetJobAsync(id))!.State);

        await node.Client.ResumeQueueAsync("default");
        await store.UntilStateAsync(id, JobState.Succeeded);

        Assert.Equal([1], _recorder.Runs.Keys);
    }

    [Fact]
    public async Task Node_StartedAndStoppedManyTimesConcurrently_AlwaysStopsAndLosesNothing()
    {
        await Task.WhenAll(Enumerable.Range(0, 4).Select(_ => Task.Run(async () =>
        {
            var store = new WatchedStore(new InMemoryJobStore(TimeProvider.System));
            var recorder = new Recorder();
            for (var cycle = 0; cycle < 10; cycle++)
            {
                var node = await TestNode.StartAsync(store, f => f.AddHandler<PingHandler, Ping>(), TimeProvider.System, s => s.AddSingleton(recorder));
                var id = await node.Client.EnqueueAsync(new Ping(cycle));
                if (cycle % 2 == 0)
                {
                    await store.UntilStateAsync(id, JobState.Succeeded);
                }

                await node.DisposeAsync();
            }

            var jobs = await store.ListAsync(new JobQuery(), default);
            Assert.Equal(10, jobs.Count);
            Assert.All(jobs, j => Assert.True(j.State is JobState.Succeeded or JobState.Available, $"job {j.Id} is {j.State.ToName()}"));
        })));
    }

    private WatchedStore NewStore() => new(new InMemoryJobStore(_clock));

    private Task<TestNode> StartAsync(IJobStore store, Action<ForgeJobsBuilder> configure, TimeProvider? time = null) =>
        TestNode.StartAsync(store, configure, time ?? _clock, s => s.AddSingleton(_recorder));
}
