using System.Diagnostics;
using Forge.Jobs.Client;
using Forge.Jobs.Serialization;
using Forge.Jobs.Storage.InMemory;
using Forge.Jobs.Tests.Support;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Time.Testing;

namespace Forge.Jobs.Tests.Regression;

/// <summary>Races and edge cases found in review, each once a defect: these tests keep them fixed.</summary>
public sealed class EngineRegressionTests
{
    private readonly FakeTimeProvider _clock = new(new DateTimeOffset(2026, 1, 1, 0, 0, 0, TimeSpan.Zero));
    private readonly RegressionProbe _probe = new();

    /// <summary>LeaseKeeper.RenewAsync stops running jobs by id only. A renewal that was sent for attempt 1 and
    /// answers "lost" after attempt 2 of the same job started on this node fires attempt 2's token, although
    /// attempt 2 holds a live lease; attempt 2 then fails and its (unfenced, valid) failure is stored.</summary>
    [Fact]
    public async Task StaleLeaseRenewal_DoesNotStopTheNextAttemptOfTheSameJob()
    {
        var store = new HookedStore(new InMemoryJobStore(_clock));
        using var host = TestNode.Build(store.Store, f => f.AddHandler<TwoAttemptsHandler, TwoAttempts>(t => t.MaxRetries = 0), _clock, s => s.AddSingleton(_probe));
        await Wait.For(host.StartAsync(), "the node to start");
        var client = host.Services.GetRequiredService<IJobClient>();

        var id = await client.EnqueueAsync(new TwoAttempts());
        await Wait.For(_probe.FirstStarted.Task, "attempt 1 to start");

        // The next renewal (it carries lease id@1) is held in flight, as a slow round trip would be.
        var renewEntered = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var renewGate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        store.BeforeRenew = async leases =>
        {
            store.BeforeRenew = null;
            renewEntered.TrySetResult();
            await renewGate.Task;
        };
        for (var i = 0; i < 20 && !renewEntered.Task.IsCompleted; i++)
        {
            _clock.Advance(TimeSpan.FromSeconds(1));
            await Task.Delay(20);
        }

        await Wait.For(renewEntered.Task, "the lease keeper to renew attempt 1");

        // Attempt 1 fails (dead), is retried by hand, and attempt 2 starts on the same node.
        _probe.FirstGate.SetResult();
        await UntilAsync(async () => (await store.Inner.GetAsync(id, default))?.State == JobState.Dead, "attempt 1 to end dead");
        Assert.True(await client.RetryAsync(id));
        await Wait.For(_probe.SecondStarted.Task, "attempt 2 to start");

        // The stale renewal of attempt 1 now lands.
        renewGate.SetResult();
        var fired = await Task.WhenAny(_probe.SecondTokenFired.Task, Task.Delay(TimeSpan.FromSeconds(2))) == _probe.SecondTokenFired.Task;
        await Task.Delay(200);
        var job = await store.Inner.GetAsync(id, default);

        _probe.SecondGate.TrySetResult();
        await Wait.For(host.StopAsync(), "the node to stop");
        Assert.Equal((false, JobState.Running, 2), (fired, job!.State, job.Attempt));
    }

    /// <summary>JobFetcher only swallows OperationCanceledException once stopping. A claim that fails with any other
    /// exception while the node stops (a connection reset, a command timeout) faults the fetcher task, so StopAsync
    /// throws at its first await: running jobs are never cancelled or handed back, the completer is never closed and
    /// the lease keeper keeps renewing the leases of a node that the host has stopped.</summary>
    [Fact]
    public async Task ClaimFailingWhileStopping_StillStopsCleanlyAndHandsRunningJobsBack()
    {
        var recorder = new Recorder();
        var store = new HookedStore(new InMemoryJobStore(TimeProvider.System));
        var host = TestNode.Build(
            store.Store,
            f => f.Configure(o =>
                {
                    o.ShutdownTimeout = TimeSpan.FromMilliseconds(200);
                    o.LeaseDuration = TimeSpan.FromSeconds(3);
                    o.LeaseRenewInterval = TimeSpan.FromMilliseconds(100);
                })
                .AddHandler<BlockingHandler, Blocking>()
                .AddHandler<PingHandler, Ping>(),
            TimeProvider.System,
            s => s.AddSingleton(recorder));
        await Wait.For(host.StartAsync(), "the node to start");
        var client = host.Services.GetRequiredService<IJobClient>();
        var id = await client.EnqueueAsync(new Blocking());
        await Wait.For(recorder.Started.Task, "the handler to start");

        var claimEntered = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var stopBegun = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        store.BeforeClaim = async (_, _) =>
        {
            claimEntered.TrySetResult();
            await stopBegun.Task;
            throw new IOException("connection reset while the node was stopping");
        };
        await client.EnqueueAsync(new Ping(1));
        await Wait.For(claimEntered.Task, "the fetcher to start a claim");

        Exception? stopError = null;
        try
        {
            var stopping = host.StopAsync();
            stopBegun.SetResult();
            await Wait.For(stopping, "the node to stop");
        }
        catch (Exception exception)
        {
            stopError = exception;
        }

        var state = (await store.Inner.GetAsync(id, default))!.State;
        var renewalsAtStop = store.Renewals;
        await Task.Delay(500);
        var renewedAfterStop = store.Renewals > renewalsAtStop;

        recorder.Gate.TrySetResult();
        host.Dispose();
        Assert.Equal(((string?)null, JobState.Available, false), (stopError?.GetType().Name, state, renewedAfterStop));
    }

    /// <summary>StopAsync hands claimed-but-unstarted jobs back only after the running ones have finished or
    /// ShutdownTimeout has passed. A claim that lands as the stop begins (the common case: the fetcher was mid-claim)
    /// is dispatched to a channel whose executors have just been told to stop taking, so the job sits there, not
    /// running, not renewed, for the whole ShutdownTimeout (up to a day), and can even be rescued as a lease-expired
    /// failure. The race is lost about 19 times in 20; the test tries up to five times.</summary>
    [Fact]
    public async Task JobClaimedAsStopBegins_IsHandedBackAtOnce()
    {
        for (var run = 0; run < 5; run++)
        {
            var recorder = new Recorder();
            var store = new HookedStore(new InMemoryJobStore(TimeProvider.System));
            using var host = TestNode.Build(
                store.Store,
                f => f.Configure(o => o.ShutdownTimeout = TimeSpan.FromSeconds(10))
                    .AddQueue("default", q => q.Concurrency = 2)
                    .AddHandler<BlockingHandler, Blocking>()
                    .AddHandler<PingHandler, Ping>(),
                TimeProvider.System,
                s => s.AddSingleton(recorder));
            await Wait.For(host.StartAsync(), "the node to start");
            var client = host.Services.GetRequiredService<IJobClient>();
            await client.EnqueueAsync(new Blocking());
            await Wait.For(recorder.Started.Task, "the long job to start");

            // The next claim is in flight when the stop begins, and returns just after.
            var claimEntered = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            var stopBegun = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            store.BeforeClaim = async (_, _) =>
            {
                store.BeforeClaim = null;
                claimEntered.TrySetResult();
                await stopBegun.Task;
            };
            var ping = await client.EnqueueAsync(new Ping(1));
            await Wait.For(claimEntered.Task, "the fetcher to start a claim");

            var stopping = host.StopAsync();
            stopBegun.SetResult();
            await Task.Delay(500);
            var state = (await store.Inner.GetAsync(ping, default))!.State;
            recorder.Gate.TrySetResult();
            await Wait.For(stopping, "the node to stop");
            Assert.True(state != JobState.Running, $"run {run}: the job claimed as the stop began was still held unstarted 0.5 s into a 10 s shutdown wait");
        }
    }

    /// <summary>JobExecutor calls the invoker on the executor's own thread and only then starts awaiting with the
    /// attempt's token. A handler that blocks synchronously before its first await (sync I/O, a sync lock) is never
    /// timed out or abandoned, and it stays in RunningJobs, so the lease keeper renews its lease for ever: the job is
    /// stuck running on a live node and its slot is lost.</summary>
    [Fact]
    public async Task HandlerThatBlocksSynchronously_IsTimedOutLikeAnyOther()
    {
        var store = new HookedStore(new InMemoryJobStore(_clock));
        using var host = TestNode.Build(store.Store, f => f.AddHandler<SyncBlockingHandler, SyncBlocking>(t => { t.Timeout = TimeSpan.FromSeconds(1); t.MaxRetries = 0; }), _clock, s => s.AddSingleton(_probe));
        await Wait.For(host.StartAsync(), "the node to start");
        var client = host.Services.GetRequiredService<IJobClient>();
        var id = await client.EnqueueAsync(new SyncBlocking());
        await Wait.For(_probe.SyncStarted.Task, "the handler to start");

        // Timeout 1 s + StopGrace 5 s would abandon an async handler; give it a whole minute.
        JobState state = JobState.Running;
        for (var i = 0; i < 60 && state == JobState.Running; i++)
        {
            _clock.Advance(TimeSpan.FromSeconds(1));
            await Task.Delay(20);
            state = (await store.Inner.GetAsync(id, default))!.State;
        }

        var leaseExpired = (await store.Inner.ListExpiredLeasesAsync(10, default)).Count > 0;
        _probe.SyncGate.Set();
        await Wait.For(host.StopAsync(), "the node to stop");
        Assert.Equal((JobState.Dead, false), (state, leaseExpired));
    }

    /// <summary>InMemoryJobStore.InsertManyAsync adds rows one by one under its lock; a row that throws part-way
    /// (here a Delay whose run-at overflows) leaves the earlier rows stored, un-hinted, and the caller sees an
    /// exception: a partial batch. The durable store's contract is one atomic round trip.</summary>
    [Fact]
    public async Task InsertMany_RowThatFails_StoresNothing()
    {
        var store = new InMemoryJobStore(TimeProvider.System);

        await Assert.ThrowsAnyAsync<Exception>(() => store.InsertManyAsync([TestJobs.New(), TestJobs.New(delay: TimeSpan.MaxValue)], default));

        Assert.Empty(await store.ListAsync(new JobQuery(), default));
    }

    /// <summary>The MaxLength check (InMemoryJobStore.ThrowIfAnyQueueWouldOverflow, and bounds/full_queues in
    /// insert.sql) counts every row of the batch, including rows whose idempotency key is already stored and which
    /// would insert nothing. Retrying an enqueue with the same key, the very thing keys are for, then throws
    /// QueueFullException on a full queue instead of returning the stored job.</summary>
    [Fact]
    public async Task IdempotentReEnqueue_IntoAFullBoundedQueue_ReturnsTheStoredJob()
    {
        var store = new InMemoryJobStore(TimeProvider.System);
        var first = await store.InsertManyAsync([TestJobs.New(idempotencyKey: "order-42", maxLength: 1)], default);

        var again = await store.InsertManyAsync([TestJobs.New(idempotencyKey: "order-42", maxLength: 1)], default);

        Assert.Equal((first[0].Id, true), (again[0].Id, again[0].Existed));
    }

    /// <summary>NewJobs.Validate bounds Delay below but not above, so a huge Delay reaches the store and fails there
    /// with "un-representable DateTime" instead of a message that names the option.</summary>
    [Fact]
    public async Task Enqueue_DelayBeyondTheCalendar_IsRejectedNamingTheOption()
    {
        var store = new InMemoryJobStore(TimeProvider.System);
        var client = new JobClient(store, new JobTypeRegistry(Options.Create(new ForgeJobsOptions())));

        var error = await Assert.ThrowsAnyAsync<ArgumentException>(() => client.EnqueueAsync(new Ping(1), new JobOptions { Delay = TimeSpan.MaxValue }));

        Assert.Contains("JobOptions.Delay", error.Message, StringComparison.Ordinal);
    }

    /// <summary>A claim that commits but whose answer never reaches the node (a connection reset after the commit)
    /// left its jobs running under the node's lease with nothing running or renewing them: they waited for the lease to
    /// lapse, and the rescue then counted a failed attempt, so a job with MaxRetries = 0 died without ever running.</summary>
    [Fact]
    public async Task ClaimWhoseAnswerIsLost_JobIsHandedBackAndRunsOnceWithoutAFailure()
    {
        var recorder = new Recorder();
        var store = new HookedStore(new InMemoryJobStore(TimeProvider.System));
        LoseTheNextClaimAnswer(store);
        await using var node = await TestNode.StartAsync(store.Store, f => f.AddHandler<PingHandler, Ping>(t => t.MaxRetries = 0), services: s => s.AddSingleton(recorder));
        recorder.Expect(1);

        var id = await node.Client.EnqueueAsync(new Ping(1));
        await Wait.For(recorder.AllRan.Task, "the job to run after its claim's answer was lost");
        await UntilAsync(async () => (await store.Inner.GetAsync(id, default))!.State == JobState.Succeeded, "the job to succeed");

        var attempts = await store.Inner.GetAttemptsAsync(id, default);
        Assert.Equal([AttemptOutcome.Interrupted, AttemptOutcome.Succeeded], attempts.Select(a => a.Outcome));
        Assert.Equal(1, recorder.Runs[1]);
    }

    /// <summary>The hand-back after a lost claim must spare every job the node does hold: one running, and one whose
    /// outcome waits in the completer (its job is still running in the store, under this node's lease).</summary>
    [Fact]
    public async Task ClaimWhoseAnswerIsLost_HandBackLeavesRunningAndCompletingJobsAlone()
    {
        var recorder = new Recorder();
        var store = new HookedStore(new InMemoryJobStore(TimeProvider.System));
        await using var node = await TestNode.StartAsync(
            store.Store,
            f => f.AddHandler<PingHandler, Ping>(t => t.MaxRetries = 0).AddHandler<BlockingHandler, Blocking>(t => t.MaxRetries = 0),
            services: s => s.AddSingleton(recorder));
        var running = await node.Client.EnqueueAsync(new Blocking());
        await Wait.For(recorder.Started.Task, "the blocking job to start");

        // The outcome of the next job waits in the completer until the test lets it through.
        var completing = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var completionGate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        store.BeforeComplete = async _ =>
        {
            store.BeforeComplete = null;
            completing.TrySetResult();
            await completionGate.Task;
        };
        var completed = await node.Client.EnqueueAsync(new Ping(1));
        await Wait.For(completing.Task, "the outcome of ping 1 to reach the store");

        LoseTheNextClaimAnswer(store);
        recorder.Expect(2);
        var lost = await node.Client.EnqueueAsync(new Ping(2));
        await Wait.For(recorder.AllRan.Task, "ping 2 to run after its claim's answer was lost");
        completionGate.SetResult();
        recorder.Gate.SetResult();
        await UntilAsync(
            async () => (await store.Inner.ListAsync(new JobQuery { State = JobState.Succeeded }, default)).Count == 3,
            "the three jobs to succeed");

        Assert.Equal([AttemptOutcome.Succeeded], (await store.Inner.GetAttemptsAsync(running, default)).Select(a => a.Outcome));
        Assert.Equal([AttemptOutcome.Succeeded], (await store.Inner.GetAttemptsAsync(completed, default)).Select(a => a.Outcome));
        Assert.Equal([AttemptOutcome.Interrupted, AttemptOutcome.Succeeded], (await store.Inner.GetAttemptsAsync(lost, default)).Select(a => a.Outcome));
    }

    /// <summary>JobCompleter counted its outcomes with the channel's Count, which a single-reader unbounded channel does
    /// not support: reading a node's load threw NotSupportedException.</summary>
    [Fact]
    public async Task NodeLoad_CountsAnOutcomeUntilItIsStored()
    {
        var recorder = new Recorder();
        var store = new HookedStore(new InMemoryJobStore(TimeProvider.System));
        await using var node = await TestNode.StartAsync(store.Store, f => f.AddHandler<PingHandler, Ping>(), services: s => s.AddSingleton(recorder));
        var processor = (Forge.Jobs.Processing.JobProcessor)node.Node;
        var storing = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var storeGate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        store.BeforeComplete = async _ =>
        {
            store.BeforeComplete = null;
            storing.TrySetResult();
            await storeGate.Task;
        };
        recorder.Expect(1);

        var id = await node.Client.EnqueueAsync(new Ping(1));
        await Wait.For(storing.Task, "the outcome to reach the store");
        var whileStoring = processor.Load;
        storeGate.SetResult();
        await UntilAsync(async () => (await store.Inner.GetAsync(id, default))!.State == JobState.Succeeded, "the job to succeed");
        await UntilAsync(() => Task.FromResult(processor.Load == default), "the node to hold nothing");

        Assert.Equal(1, whileStoring.QueuedOutcomes);
    }

    /// <summary>The next claim that takes jobs is stored, then fails as a connection reset after the commit would.</summary>
    private static void LoseTheNextClaimAnswer(HookedStore store) =>
        store.AfterClaim = result =>
        {
            if (result.Count == 0)
            {
                return Task.CompletedTask;
            }

            store.AfterClaim = null;
            throw new IOException("Connection reset by peer, after the claim committed.");
        };

    private static async Task UntilAsync(Func<Task<bool>> condition, string what)
    {
        var elapsed = Stopwatch.StartNew();
        while (!await condition())
        {
            if (elapsed.Elapsed > Wait.Timeout)
            {
                throw new TimeoutException($"Timed out waiting for {what}.");
            }

            await Task.Delay(10);
        }
    }
}
