using Forge.Jobs.Storage;
using Forge.Jobs.Tests.Support;

namespace Forge.Jobs.Tests.Storage;

/// <summary>The contract every <see cref="IJobStore"/> must meet, written once and run unchanged against each
/// store. Tests place time only relative to the store's own clock (leases of zero length are expired at once,
/// run-at times an hour away are not due), so they hold for a store whose clock the test cannot move.</summary>
public abstract partial class JobStoreConformanceTests : IAsyncLifetime
{
    private const string NodeA = "node-a";
    private const string NodeB = "node-b";
    private static readonly TimeSpan LongLease = TimeSpan.FromHours(1);
    private static readonly TimeSpan ExpiredLease = TimeSpan.Zero;

    private IJobStore? _store;

    private protected IJobStore Store => _store ?? throw new InvalidOperationException("The store is created in InitializeAsync.");

    private protected abstract Task<IJobStore> CreateStoreAsync();

    public async Task InitializeAsync() => _store = await CreateStoreAsync();

    public virtual Task DisposeAsync() => Task.CompletedTask;

    [Fact]
    public async Task Insert_ManyJobs_ReturnsIncreasingIdsInInputOrder()
    {
        var ids = await InsertAsync(TestJobs.New(), TestJobs.New(), TestJobs.New());

        Assert.Equal(3, ids.Distinct().Count());
        Assert.True(ids[0] < ids[1] && ids[1] < ids[2]);
    }

    [Fact]
    public async Task Insert_StoresEveryField_AndTheJobIsAvailable()
    {
        var id = (await InsertAsync(TestJobs.New(queue: "emails", priority: 8, maxRetries: 2, type: "send_email", payload: """{"to":"a@b.c"}""", tags: ["vip", "eu"], idempotencyKey: "k-1")))[0];

        var job = await Store.GetAsync(id, default);

        Assert.NotNull(job);
        Assert.Equal(id, job.Id);
        Assert.Equal("send_email", job.Type);
        Assert.Equal("emails", job.Queue);
        Assert.Equal(JobState.Available, job.State);
        Assert.Equal(8, job.Priority);
        Assert.Equal(0, job.Attempt);
        Assert.Equal(2, job.MaxRetries);
        Assert.Equal("a@b.c", System.Text.Json.JsonDocument.Parse(job.Payload).RootElement.GetProperty("to").GetString());
        Assert.Equal(["vip", "eu"], job.Tags);
        Assert.Equal("k-1", job.IdempotencyKey);
        Assert.Null(job.FinishedAt);
    }

    [Fact]
    public async Task Get_UnknownId_ReturnsNull()
    {
        Assert.Null(await Store.GetAsync(new JobId(987_654_321), default));
    }

    [Fact]
    public async Task Insert_FutureRunAt_IsScheduledAndNotClaimed()
    {
        var id = (await InsertAsync(TestJobs.New(runAt: DateTimeOffset.UtcNow.AddHours(1))))[0];

        Assert.Equal(JobState.Scheduled, (await Store.GetAsync(id, default))!.State);
        Assert.Empty(await ClaimAsync(NodeA));
    }

    [Fact]
    public async Task Insert_Delay_IsScheduledAndNotClaimed()
    {
        var id = (await InsertAsync(TestJobs.New(delay: TimeSpan.FromHours(1))))[0];

        Assert.Equal(JobState.Scheduled, (await Store.GetAsync(id, default))!.State);
        Assert.Empty(await ClaimAsync(NodeA));
    }

    [Fact]
    public async Task Insert_PastRunAt_IsAvailableAndClaimed()
    {
        var id = (await InsertAsync(TestJobs.New(runAt: DateTimeOffset.UtcNow.AddHours(-1))))[0];

        Assert.Equal(JobState.Available, (await Store.GetAsync(id, default))!.State);
        Assert.Equal([id], (await ClaimAsync(NodeA)).Select(j => j.Id));
    }

    [Fact]
    public async Task Claim_ReportsHowLongEachJobWaitedSinceItWasDue()
    {
        await InsertAsync(TestJobs.New(runAt: DateTimeOffset.UtcNow.AddHours(-1)));

        var waited = Assert.Single(await ClaimAsync(NodeA)).Waited;

        Assert.InRange(waited, TimeSpan.FromMinutes(59), TimeSpan.FromMinutes(61));
    }

    [Fact]
    public async Task Insert_SameIdempotencyKeyTwice_ReturnsTheFirstJobAndStoresOne()
    {
        var first = await Store.InsertManyAsync([TestJobs.New(idempotencyKey: "order-42", payload: """{"n":1}""")], default);
        var second = await Store.InsertManyAsync([TestJobs.New(idempotencyKey: "order-42", payload: """{"n":2}""")], default);

        Assert.False(first[0].Existed);
        Assert.True(second[0].Existed);
        Assert.Equal(first[0].Id, second[0].Id);
        Assert.Single(await Store.ListAsync(new JobQuery(), default));
        Assert.Contains("1", (await Store.GetAsync(first[0].Id, default))!.Payload, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Insert_SameIdempotencyKeyTwiceInOneCall_StoresOne()
    {
        var inserted = await Store.InsertManyAsync([TestJobs.New(idempotencyKey: "dup"), TestJobs.New(), TestJobs.New(idempotencyKey: "dup")], default);

        Assert.Equal(inserted[0].Id, inserted[2].Id);
        Assert.True(inserted[2].Existed);
        Assert.Equal(2, (await Store.ListAsync(new JobQuery(), default)).Count);
    }

    [Fact]
    public async Task Insert_IdempotencyKeyOfFinishedJob_StillReturnsThatJob()
    {
        var id = (await InsertAsync(TestJobs.New(idempotencyKey: "once")))[0];
        var claimed = Assert.Single(await ClaimAsync(NodeA));
        await CompleteAsync(Succeeded(claimed));

        var again = await Store.InsertManyAsync([TestJobs.New(idempotencyKey: "once")], default);

        Assert.Equal(id, again[0].Id);
        Assert.True(again[0].Existed);
    }

    [Fact]
    public async Task Insert_IntoAFullBoundedQueue_ThrowsAndStoresNothing()
    {
        await InsertAsync(TestJobs.New(maxLength: 3), TestJobs.New(maxLength: 3), TestJobs.New(maxLength: 3));

        var error = await Assert.ThrowsAsync<QueueFullException>(() => InsertAsync(TestJobs.New(maxLength: 3)));

        Assert.Equal(("default", 3), (error.Queue, error.MaxLength));
        Assert.Equal(3, (await Store.ListAsync(new JobQuery(), default)).Count);
    }

    [Fact]
    public async Task Insert_BatchThatWouldOverflowABoundedQueue_StoresNoneOfIt()
    {
        await InsertAsync(TestJobs.New(maxLength: 3));

        await Assert.ThrowsAsync<QueueFullException>(() => InsertAsync(TestJobs.New(queue: "other"), TestJobs.New(maxLength: 3), TestJobs.New(maxLength: 3), TestJobs.New(maxLength: 3)));

        Assert.Single(await Store.ListAsync(new JobQuery(), default));
    }

    [Fact]
    public async Task Insert_BoundedQueue_CountsOnlyJobsWaitingToRun()
    {
        await InsertAsync(TestJobs.New(maxLength: 2), TestJobs.New(maxLength: 2, runAt: DateTimeOffset.UtcNow.AddHours(1)));
        await Assert.ThrowsAsync<QueueFullException>(() => InsertAsync(TestJobs.New(maxLength: 2)));
        Assert.Single(await ClaimAsync(NodeA));

        Assert.Single(await InsertAsync(TestJobs.New(maxLength: 2)));
    }

    [Fact]
    public async Task Claim_SkipsPausedQueuesUntilResumed()
    {
        await InsertAsync(TestJobs.New(queue: "paused"), TestJobs.New(queue: "open"));
        await Store.SetQueuePausedAsync("paused", paused: true, default);

        var claimed = await Store.ClaimAsync(new ClaimRequest(NodeA, LongLease, [new("paused", 5), new("open", 5)]), default);
        await Store.SetQueuePausedAsync("paused", paused: false, default);
        var afterResume = await ClaimAsync(NodeA, queue: "paused");

        Assert.Equal(["open"], claimed.Select(j => j.Queue));
        Assert.Single(afterResume);
    }

    [Fact]
    public async Task ListQueues_CountsJobsByStateAndShowsPausedQueues()
    {
        await InsertAsync(TestJobs.New(queue: "a"), TestJobs.New(queue: "a"), TestJobs.New(queue: "a", runAt: DateTimeOffset.UtcNow.AddHours(1)), TestJobs.New(queue: "b"));
        Assert.Single(await ClaimAsync(NodeA, queue: "a", limit: 1));
        await Store.SetQueuePausedAsync("idle", paused: true, default);

        var queues = await Store.ListQueuesAsync(default);

        Assert.Equal(["a", "b", "idle"], queues.Select(q => q.Name));
        await Store.SetQueuePausedAsync("idle", paused: false, default);
        Assert.Equal(["a", "b"], (await Store.ListQueuesAsync(default)).Select(q => q.Name));
        Assert.Equal(new Dictionary<JobState, long> { [JobState.Available] = 1, [JobState.Running] = 1, [JobState.Scheduled] = 1 }, queues[0].Counts);
        Assert.Equal((false, true), (queues[0].IsPaused, queues[2].IsPaused));
        Assert.Empty(queues[2].Counts);
    }

    [Fact]
    public async Task Claim_HigherPriorityFirst()
    {
        var ids = await InsertAsync(TestJobs.New(priority: 1), TestJobs.New(priority: 9), TestJobs.New(priority: 5), TestJobs.New(priority: 0));

        var claimed = await ClaimAsync(NodeA, limit: 4);

        Assert.Equal([ids[1], ids[2], ids[0], ids[3]], claimed.Select(j => j.Id));
    }

    [Fact]
    public async Task Claim_SamePriority_FirstInFirstOut()
    {
        var ids = await InsertAsync(TestJobs.New(), TestJobs.New(), TestJobs.New());

        var first = await ClaimAsync(NodeA, limit: 1);
        var rest = await ClaimAsync(NodeA, limit: 2);

        Assert.Equal(ids[0], Assert.Single(first).Id);
        Assert.Equal([ids[1], ids[2]], rest.Select(j => j.Id));
    }

    [Fact]
    public async Task Claim_SamePriority_EarlierRunAtFirst()
    {
        var now = DateTimeOffset.UtcNow;
        var ids = await InsertAsync(TestJobs.New(runAt: now.AddMinutes(-1)), TestJobs.New(runAt: now.AddMinutes(-30)), TestJobs.New(runAt: now.AddMinutes(-10)));

        var claimed = await ClaimAsync(NodeA, limit: 3);

        Assert.Equal([ids[1], ids[2], ids[0]], claimed.Select(j => j.Id));
    }

    [Fact]
    public async Task Claim_TakesAtMostTheLimitOfEachQueue()
    {
        await InsertAsync([.. Enumerable.Range(0, 5).Select(_ => TestJobs.New(queue: "a")), .. Enumerable.Range(0, 5).Select(_ => TestJobs.New(queue: "b"))]);

        var claimed = await Store.ClaimAsync(new ClaimRequest(NodeA, LongLease, [new("a", 2), new("b", 3)]), default);

        Assert.Equal(2, claimed.Count(j => j.Queue == "a"));
        Assert.Equal(3, claimed.Count(j => j.Queue == "b"));
    }

    [Fact]
    public async Task Claim_OnlyFromRequestedQueues()
    {
        await InsertAsync(TestJobs.New(queue: "other"));

        Assert.Empty(await ClaimAsync(NodeA, queue: "default"));
        Assert.Single(await ClaimAsync(NodeA, queue: "other"));
    }

    [Fact]
    public async Task Claim_StampsRunningStateLeaseOwnerAndAttempt()
    {
        var id = (await InsertAsync(TestJobs.New(type: "stamp", payload: """{"x":1}""")))[0];

        var claimed = Assert.Single(await ClaimAsync(NodeA));
        var job = await Store.GetAsync(id, default);

        Assert.Equal(1, claimed.Attempt);
        Assert.Equal(NodeA, claimed.LeaseOwner);
        Assert.Equal("stamp", claimed.Type);
        Assert.Contains("\"x\"", claimed.Payload, StringComparison.Ordinal);
        Assert.Equal(JobState.Running, job!.State);
        Assert.Equal(1, job.Attempt);
        Assert.Equal(NodeA, job.Node);
        Assert.NotNull(job.AttemptedAt);
    }

    [Fact]
    public async Task Claim_RunningJobIsNotClaimedAgain()
    {
        await InsertAsync(TestJobs.New());

        Assert.Single(await ClaimAsync(NodeA));
        Assert.Empty(await ClaimAsync(NodeB));
    }

    [Fact]
    public async Task Claim_ConcurrentClaimers_NeverGetTheSameJob()
    {
        await InsertAsync([.. Enumerable.Range(0, 200).Select(_ => TestJobs.New())]);

        var claims = await Task.WhenAll(Enumerable.Range(0, 8).Select(i => Task.Run(async () =>
        {
            var mine = new List<ClaimedJob>();
            while (await ClaimAsync($"node-{i}", limit: 7) is { Count: > 0 } batch)
            {
                mine.AddRange(batch);
            }

            return mine;
        })));

        var all = claims.SelectMany(c => c).Select(j => j.Id).ToList();
        Assert.Equal(200, all.Count);
        Assert.Equal(200, all.Distinct().Count());
    }

    [Fact]
    public async Task Complete_Succeeded_StoresResultAndFinishes()
    {
        var id = (await InsertAsync(TestJobs.New()))[0];
        var claimed = Assert.Single(await ClaimAsync(NodeA));

        Assert.Empty(await CompleteAsync(Succeeded(claimed, """{"total":3}""")));

        var job = await Store.GetAsync(id, default);
        Assert.Equal(JobState.Succeeded, job!.State);
        Assert.Equal("""{"total":3}""", job.Result?.Replace(" ", "", StringComparison.Ordinal));
        Assert.NotNull(job.FinishedAt);
        Assert.Null(job.Node);
    }

    [Fact]
    public async Task Complete_RetryWithoutDelay_IsClaimedAgainWithTheNextAttempt()
    {
        var id = (await InsertAsync(TestJobs.New()))[0];
        var first = Assert.Single(await ClaimAsync(NodeA));

        await CompleteAsync(new Completion(first.Id, NodeA, 1, CompletionOutcome.Retry, Error: "boom", RetryDelay: TimeSpan.Zero));
        var second = Assert.Single(await ClaimAsync(NodeB));

        Assert.Equal(id, second.Id);
        Assert.Equal(2, second.Attempt);
        Assert.Equal("boom", (await Store.GetAsync(id, default))!.LastError);
    }

    [Fact]
    public async Task Complete_RetryWithDelay_IsRetryingAndNotClaimedBeforeItIsDue()
    {
        var id = (await InsertAsync(TestJobs.New()))[0];
        var claimed = Assert.Single(await ClaimAsync(NodeA));

        await CompleteAsync(new Completion(claimed.Id, NodeA, 1, CompletionOutcome.Retry, Error: "boom", RetryDelay: TimeSpan.FromHours(1)));

        var job = await Store.GetAsync(id, default);
        Assert.Equal(JobState.Retrying, job!.State);
        Assert.True(job.RunAt > DateTimeOffset.UtcNow.AddMinutes(30));
        Assert.Empty(await ClaimAsync(NodeA));
    }

    [Fact]
    public async Task Complete_Dead_IsTerminalWithTheError()
    {
        var id = (await InsertAsync(TestJobs.New(maxRetries: 0)))[0];
        var claimed = Assert.Single(await ClaimAsync(NodeA));

        await CompleteAsync(new Completion(claimed.Id, NodeA, 1, CompletionOutcome.Dead, Error: "final failure"));

        var job = await Store.GetAsync(id, default);
        Assert.Equal(JobState.Dead, job!.State);
        Assert.Equal("final failure", job.LastError);
        Assert.NotNull(job.FinishedAt);
        Assert.Empty(await ClaimAsync(NodeA));
    }

    [Fact]
    public async Task Complete_WrongLeaseOwner_IsRefusedAndChangesNothing()
    {
        var id = (await InsertAsync(TestJobs.New()))[0];
        var claimed = Assert.Single(await ClaimAsync(NodeA));

        var refused = await CompleteAsync(new Completion(claimed.Id, NodeB, 1, CompletionOutcome.Succeeded));

        Assert.Single(refused);
        Assert.Equal(JobState.Running, (await Store.GetAsync(id, default))!.State);
    }

    [Fact]
    public async Task Complete_StaleAttemptAfterRescueAndReclaim_IsRefused()
    {
        var id = (await InsertAsync(TestJobs.New()))[0];
        var stale = Assert.Single(await ClaimAsync(NodeA, lease: ExpiredLease));
        await CompleteAsync(new Completion(stale.Id, NodeA, 1, CompletionOutcome.Retry, Error: "lease expired", Rescue: true));
        var fresh = Assert.Single(await ClaimAsync(NodeB));

        var refused = await CompleteAsync(Succeeded(stale, """ "stale" """));

        Assert.Single(refused);
        var job = await Store.GetAsync(id, default);
        Assert.Equal(JobState.Running, job!.State);
        Assert.Equal(NodeB, job.Node);
        Assert.Equal(2, job.Attempt);
        Assert.Null(job.Result);
        Assert.Empty(await CompleteAsync(Succeeded(fresh)));
    }

    [Fact]
    public async Task Complete_SameAttemptTwice_SecondIsRefused()
    {
        await InsertAsync(TestJobs.New());
        var claimed = Assert.Single(await ClaimAsync(NodeA));

        Assert.Empty(await CompleteAsync(Succeeded(claimed)));
        Assert.Single(await CompleteAsync(new Completion(claimed.Id, NodeA, 1, CompletionOutcome.Dead, Error: "late")));
        Assert.Equal(JobState.Succeeded, (await Store.GetAsync(claimed.Id, default))!.State);
    }

    [Fact]
    public async Task Complete_ManyOutcomesInOneCall_AppliesEachAndRefusesOnlyTheStale()
    {
        await InsertAsync(TestJobs.New(), TestJobs.New(), TestJobs.New(), TestJobs.New());
        var claimed = await ClaimAsync(NodeA, limit: 4);

        var refused = await CompleteAsync(
            Succeeded(claimed[0]),
            new Completion(claimed[1].Id, NodeA, 1, CompletionOutcome.Retry, Error: "e", RetryDelay: TimeSpan.FromHours(1)),
            new Completion(claimed[2].Id, NodeA, 1, CompletionOutcome.Cancelled),
            new Completion(claimed[3].Id, NodeA, 2, CompletionOutcome.Succeeded));

        Assert.Equal(claimed[3].Id, Assert.Single(refused).Id);
        Assert.Equal(JobState.Succeeded, (await Store.GetAsync(claimed[0].Id, default))!.State);
        Assert.Equal(JobState.Retrying, (await Store.GetAsync(claimed[1].Id, default))!.State);
        Assert.Equal(JobState.Cancelled, (await Store.GetAsync(claimed[2].Id, default))!.State);
        Assert.Equal(JobState.Running, (await Store.GetAsync(claimed[3].Id, default))!.State);
    }

    [Fact]
    public async Task Complete_Released_IsAvailableAgainAndRecordedAsInterrupted()
    {
        var id = (await InsertAsync(TestJobs.New()))[0];
        var claimed = Assert.Single(await ClaimAsync(NodeA));

        await CompleteAsync(new Completion(claimed.Id, NodeA, 1, CompletionOutcome.Released, Error: "shutdown"));

        Assert.Equal(JobState.Available, (await Store.GetAsync(id, default))!.State);
        Assert.Equal(AttemptOutcome.Interrupted, Assert.Single(await Store.GetAttemptsAsync(id, default)).Outcome);
        Assert.Equal(2, Assert.Single(await ClaimAsync(NodeB)).Attempt);
    }

    [Fact]
    public async Task Failures_CountRetriesAndDeathButNotHandBacks_AndAManualRetryAllowsOneMore()
    {
        await InsertAsync(TestJobs.New(maxRetries: 1));
        var first = Assert.Single(await ClaimAsync(NodeA));
        await CompleteAsync(new Completion(first.Id, NodeA, 1, CompletionOutcome.Released));
        var second = Assert.Single(await ClaimAsync(NodeA));
        await CompleteAsync(new Completion(second.Id, NodeA, 2, CompletionOutcome.Retry, Error: "e", RetryDelay: TimeSpan.Zero));
        var third = Assert.Single(await ClaimAsync(NodeA));
        await CompleteAsync(new Completion(third.Id, NodeA, 3, CompletionOutcome.Dead, Error: "e"));
        Assert.True(await Store.RetryAsync(first.Id, default));
        var fourth = Assert.Single(await ClaimAsync(NodeA));

        Assert.Equal([0, 0, 1, 2], new[] { first, second, third, fourth }.Select(j => j.Failures));
        Assert.Equal(2, fourth.MaxRetries);
    }

    [Fact]
    public async Task ReleaseLeases_RunningJobsOfTheOwnerNotKept_AreHandedBackWithoutCountingAFailure()
    {
        var ids = await InsertAsync(TestJobs.New(maxRetries: 0), TestJobs.New(maxRetries: 0), TestJobs.New(maxRetries: 0), TestJobs.New());
        var mine = await ClaimAsync(NodeA, limit: 3);
        Assert.Single(await ClaimAsync(NodeB));
        var listener = new RecordingListener();
        using var subscription = await Store.SubscribeAsync(listener, default);

        var released = await Store.ReleaseLeasesAsync(NodeA, [mine[0].Id], "answer lost", default);

        Assert.Equal([mine[1].Id, mine[2].Id], released.OrderBy(id => id.Value));
        Assert.Equal([JobState.Running, JobState.Available, JobState.Available, JobState.Running], await StatesAsync(ids));
        var attempt = Assert.Single(await Store.GetAttemptsAsync(mine[1].Id, default));
        Assert.Equal((AttemptOutcome.Interrupted, NodeA, "answer lost"), (attempt.Outcome, attempt.Node, attempt.Error));
        Assert.Equal("default", await Wait.For(listener.Available.Task, "the jobs-available hint"));

        // Not counted: a job that may not be retried runs again.
        var again = await ClaimAsync(NodeB, limit: 2);
        Assert.Equal([(2, 0), (2, 0)], again.Select(j => (j.Attempt, j.Failures)));
        Assert.Empty(await Store.ReleaseLeasesAsync(NodeA, [mine[0].Id], "answer lost", default));
    }

    [Fact]
    public async Task ReleaseLeases_JobWhoseCancellationWasAsked_EndsCancelled()
    {
        await InsertAsync(TestJobs.New());
        var claimed = Assert.Single(await ClaimAsync(NodeA));
        await Store.CancelAsync(claimed.Id, default);

        Assert.Equal([claimed.Id], await Store.ReleaseLeasesAsync(NodeA, [], "answer lost", default));

        Assert.Equal(JobState.Cancelled, (await Store.GetAsync(claimed.Id, default))!.State);
    }

    [Fact]
    public async Task GetTime_IsTheClockThatStampsJobs()
    {
        var before = await Store.GetTimeAsync(default);
        var id = (await InsertAsync(TestJobs.New()))[0];
        var after = await Store.GetTimeAsync(default);

        var created = (await Store.GetAsync(id, default))!.CreatedAt;
        Assert.InRange(created, before, after);
    }

    [Fact]
    public async Task ExtendLeases_HeldLease_IsNoLongerExpired()
    {
        await InsertAsync(TestJobs.New());
        var claimed = Assert.Single(await ClaimAsync(NodeA, lease: ExpiredLease));
        Assert.Single(await Store.ListExpiredLeasesAsync(10, default));

        var renewal = await Store.ExtendLeasesAsync(NodeA, [new LeaseRef(claimed.Id, 1)], LongLease, default);

        Assert.Empty(renewal.Lost);
        Assert.Empty(await Store.ListExpiredLeasesAsync(10, default));
    }

    [Fact]
    public async Task ExtendLeases_LeaseHeldByAnotherOwnerOrAttempt_IsReportedLost()
    {
        await InsertAsync(TestJobs.New(), TestJobs.New());
        var claimed = await ClaimAsync(NodeA, limit: 2);

        var renewal = await Store.ExtendLeasesAsync(NodeB, [new LeaseRef(claimed[0].Id, 1)], LongLease, default);
        var wrongAttempt = await Store.ExtendLeasesAsync(NodeA, [new LeaseRef(claimed[1].Id, 7)], LongLease, default);

        Assert.Equal([claimed[0].Id], renewal.Lost);
        Assert.Equal([claimed[1].Id], wrongAttempt.Lost);
    }

    [Fact]
    public async Task ListExpiredLeases_ReturnsOnlyRunningJobsPastTheirLease()
    {
        await InsertAsync(TestJobs.New(), TestJobs.New(), TestJobs.New());
        var expired = Assert.Single(await ClaimAsync(NodeA, limit: 1, lease: ExpiredLease));
        Assert.Single(await ClaimAsync(NodeB, limit: 1, lease: LongLease));

        var listed = Assert.Single(await Store.ListExpiredLeasesAsync(10, default));

        Assert.Equal(expired.Id, listed.Id);
        Assert.Equal(NodeA, listed.LeaseOwner);
        Assert.Equal(1, listed.Attempt);
    }

    [Fact]
    public async Task RescueCompletion_OfALiveLease_IsRefused()
    {
        await InsertAsync(TestJobs.New());
        var claimed = Assert.Single(await ClaimAsync(NodeA, lease: LongLease));

        var refused = await CompleteAsync(new Completion(claimed.Id, NodeA, 1, CompletionOutcome.Retry, Error: "lease expired", Rescue: true));

        Assert.Single(refused);
        Assert.Equal(JobState.Running, (await Store.GetAsync(claimed.Id, default))!.State);
    }

    [Fact]
    public async Task RescueCompletion_OfAnExpiredLease_RetriesAndRecordsLeaseExpired()
    {
        await InsertAsync(TestJobs.New());
        var claimed = Assert.Single(await ClaimAsync(NodeA, lease: ExpiredLease));

        Assert.Empty(await CompleteAsync(new Completion(claimed.Id, NodeA, 1, CompletionOutcome.Retry, Error: "lease expired", Rescue: true)));

        var attempt = Assert.Single(await Store.GetAttemptsAsync(claimed.Id, default));
        Assert.Equal(AttemptOutcome.LeaseExpired, attempt.Outcome);
        Assert.Equal(NodeA, attempt.Node);
        Assert.Equal(2, Assert.Single(await ClaimAsync(NodeB)).Attempt);
    }

    [Fact]
    public async Task Cancel_JobNotStarted_IsCancelledAndNeverClaimed()
    {
        var ids = await InsertAsync(TestJobs.New(), TestJobs.New(runAt: DateTimeOffset.UtcNow.AddHours(1)));

        Assert.Equal(CancelResult.Cancelled, await Store.CancelAsync(ids[0], default));
        Assert.Equal(CancelResult.Cancelled, await Store.CancelAsync(ids[1], default));

        Assert.Equal(JobState.Cancelled, (await Store.GetAsync(ids[0], default))!.State);
        Assert.Equal(JobState.Cancelled, (await Store.GetAsync(ids[1], default))!.State);
        Assert.Empty(await ClaimAsync(NodeA));
    }

    [Fact]
    public async Task Cancel_RunningJob_IsRequestedAndReportedToTheLeaseHolder()
    {
        await InsertAsync(TestJobs.New());
        var claimed = Assert.Single(await ClaimAsync(NodeA));
        var listener = new RecordingListener();
        using var subscription = await Store.SubscribeAsync(listener, default);

        Assert.Equal(CancelResult.CancellationRequested, await Store.CancelAsync(claimed.Id, default));
        var renewal = await Store.ExtendLeasesAsync(NodeA, [new LeaseRef(claimed.Id, 1)], LongLease, default);

        Assert.Equal([claimed.Id], renewal.CancelRequested);
        Assert.Equal(JobState.Running, (await Store.GetAsync(claimed.Id, default))!.State);
        await Wait.For(listener.CancelRequested.Task, "the cancel hint");
    }

    [Fact]
    public async Task Cancel_RunningJobThenReleased_EndsCancelled()
    {
        await InsertAsync(TestJobs.New());
        var claimed = Assert.Single(await ClaimAsync(NodeA));
        await Store.CancelAsync(claimed.Id, default);

        await CompleteAsync(new Completion(claimed.Id, NodeA, 1, CompletionOutcome.Released));

        Assert.Equal(JobState.Cancelled, (await Store.GetAsync(claimed.Id, default))!.State);
    }

    [Fact]
    public async Task Cancel_RunningJobWhoseAttemptThenFails_EndsCancelledInsteadOfRetrying()
    {
        await InsertAsync(TestJobs.New());
        var claimed = Assert.Single(await ClaimAsync(NodeA));
        await Store.CancelAsync(claimed.Id, default);

        await CompleteAsync(new Completion(claimed.Id, NodeA, 1, CompletionOutcome.Retry, Error: "failed as it was cancelled", RetryDelay: TimeSpan.Zero));

        Assert.Equal(JobState.Cancelled, (await Store.GetAsync(claimed.Id, default))!.State);
        Assert.Empty(await ClaimAsync(NodeB));
    }

    [Fact]
    public async Task Cancel_RunningJobWhoseLastAttemptThenFails_EndsCancelledInsteadOfDead()
    {
        await InsertAsync(TestJobs.New(maxRetries: 0));
        var claimed = Assert.Single(await ClaimAsync(NodeA));
        await Store.CancelAsync(claimed.Id, default);

        await CompleteAsync(new Completion(claimed.Id, NodeA, 1, CompletionOutcome.Dead, Error: "failed as it was cancelled"));

        Assert.Equal(JobState.Cancelled, (await Store.GetAsync(claimed.Id, default))!.State);
    }

    [Fact]
    public async Task Cancel_FinishedOrUnknownJob_ChangesNothing()
    {
        await InsertAsync(TestJobs.New());
        var claimed = Assert.Single(await ClaimAsync(NodeA));
        await CompleteAsync(Succeeded(claimed));

        Assert.Equal(CancelResult.AlreadyFinished, await Store.CancelAsync(claimed.Id, default));
        Assert.Equal(CancelResult.NotFound, await Store.CancelAsync(new JobId(987_654_321), default));
        Assert.Equal(JobState.Succeeded, (await Store.GetAsync(claimed.Id, default))!.State);
    }

    [Fact]
    public async Task Retry_DeadJob_IsAvailableForOneMoreAttempt()
    {
        var id = (await InsertAsync(TestJobs.New(maxRetries: 0)))[0];
        var claimed = Assert.Single(await ClaimAsync(NodeA));
        await CompleteAsync(new Completion(claimed.Id, NodeA, 1, CompletionOutcome.Dead, Error: "bad"));

        Assert.True(await Store.RetryAsync(id, default));

        var job = await Store.GetAsync(id, default);
        Assert.Equal(JobState.Available, job!.State);
        Assert.Null(job.FinishedAt);
        var again = Assert.Single(await ClaimAsync(NodeB));
        Assert.Equal(2, again.Attempt);
        Assert.True(again.Attempt <= again.MaxRetries + 1, "the retried attempt is within the job's retry budget");
    }

    [Fact]
    public async Task Retry_JobThatIsNotDeadOrCancelled_IsRefused()
    {
        var ids = await InsertAsync(TestJobs.New(), TestJobs.New());
        var claimed = Assert.Single(await ClaimAsync(NodeA, limit: 1));
        await CompleteAsync(Succeeded(claimed));

        Assert.False(await Store.RetryAsync(ids[0], default));
        Assert.False(await Store.RetryAsync(ids[1], default));
        Assert.False(await Store.RetryAsync(new JobId(987_654_321), default));
        Assert.Equal(JobState.Succeeded, (await Store.GetAsync(ids[0], default))!.State);
    }

    [Fact]
    public async Task Attempts_RecordEveryAttemptInOrder()
    {
        var id = (await InsertAsync(TestJobs.New()))[0];
        var first = Assert.Single(await ClaimAsync(NodeA));
        await CompleteAsync(new Completion(first.Id, NodeA, 1, CompletionOutcome.Retry, Error: "first failure", RetryDelay: TimeSpan.Zero));
        var second = Assert.Single(await ClaimAsync(NodeB));
        await CompleteAsync(Succeeded(second));

        var attempts = await Store.GetAttemptsAsync(id, default);

        Assert.Equal(2, attempts.Count);
        Assert.Equal((1, NodeA, AttemptOutcome.Failed, "first failure"), (attempts[0].Attempt, attempts[0].Node, attempts[0].Outcome, attempts[0].Error));
        Assert.Equal((2, NodeB, AttemptOutcome.Succeeded, (string?)null), (attempts[1].Attempt, attempts[1].Node, attempts[1].Outcome, attempts[1].Error));
        Assert.True(attempts[0].StartedAt <= attempts[0].FinishedAt && attempts[0].FinishedAt <= attempts[1].StartedAt);
    }

    [Fact]
    public async Task List_FiltersByStateQueueTypeAndTag_NewestFirst()
    {
        var ids = await InsertAsync(
            TestJobs.New(queue: "a", type: "x", tags: ["red"]),
            TestJobs.New(queue: "b", type: "x", tags: ["red", "blue"]),
            TestJobs.New(queue: "a", type: "y"),
            TestJobs.New(queue: "a", type: "x", runAt: DateTimeOffset.UtcNow.AddHours(1)));

        Assert.Equal([ids[3], ids[2], ids[1], ids[0]], (await Store.ListAsync(new JobQuery(), default)).Select(j => j.Id));
        Assert.Equal([ids[3], ids[2], ids[0]], (await Store.ListAsync(new JobQuery { Queue = "a" }, default)).Select(j => j.Id));
        Assert.Equal([ids[3], ids[1], ids[0]], (await Store.ListAsync(new JobQuery { Type = "x" }, default)).Select(j => j.Id));
        Assert.Equal([ids[1], ids[0]], (await Store.ListAsync(new JobQuery { Tag = "red" }, default)).Select(j => j.Id));
        Assert.Equal([ids[3]], (await Store.ListAsync(new JobQuery { State = JobState.Scheduled }, default)).Select(j => j.Id));
        Assert.Equal([ids[2], ids[0]], (await Store.ListAsync(new JobQuery { Queue = "a", State = JobState.Available }, default)).Select(j => j.Id));
    }

    [Fact]
    public async Task List_PagesWithTheBeforeCursor()
    {
        var ids = await InsertAsync([.. Enumerable.Range(0, 5).Select(_ => TestJobs.New())]);

        var page1 = await Store.ListAsync(new JobQuery { Limit = 2 }, default);
        var page2 = await Store.ListAsync(new JobQuery { Limit = 2, Before = page1[^1].Id }, default);
        var page3 = await Store.ListAsync(new JobQuery { Limit = 2, Before = page2[^1].Id }, default);

        Assert.Equal([ids[4], ids[3], ids[2], ids[1], ids[0]], page1.Concat(page2).Concat(page3).Select(j => j.Id));
        Assert.Single(page3);
    }

    [Fact]
    public async Task Subscribe_InsertOfAnAvailableJob_HintsItsQueue()
    {
        var listener = new RecordingListener();
        using var subscription = await Store.SubscribeAsync(listener, default);

        await InsertAsync(TestJobs.New(queue: "hinted"));

        Assert.Equal("hinted", await Wait.For(listener.Available.Task, "the jobs-available hint"));
    }

    [Fact]
    public async Task Heartbeat_CreatesTheNodeThenKeepsItFresh()
    {
        Assert.False((await Store.HeartbeatAsync(new NodeHeartbeat(NodeA, ["default", "emails"], Draining: false), default)).DrainRequested);
        var first = Assert.Single(await Store.ListNodesAsync(default));
        await Store.HeartbeatAsync(new NodeHeartbeat(NodeA, ["default"], Draining: true), default);

        var node = Assert.Single(await Store.ListNodesAsync(default));
        Assert.Equal((NodeA, first.StartedAt, true), (node.Id, node.StartedAt, node.IsDraining));
        Assert.Equal(["default"], node.Queues);
        Assert.True(node.HeartbeatAt >= first.HeartbeatAt);
    }

    [Fact]
    public async Task RequestDrain_IsAnsweredByTheNodesNextHeartbeat()
    {
        await Store.HeartbeatAsync(new NodeHeartbeat(NodeA, ["default"], Draining: false), default);

        Assert.True(await Store.RequestDrainAsync(NodeA, default));
        Assert.False(await Store.RequestDrainAsync("no-such-node", default));

        Assert.True((await Store.HeartbeatAsync(new NodeHeartbeat(NodeA, ["default"], Draining: false), default)).DrainRequested);
        Assert.True(Assert.Single(await Store.ListNodesAsync(default)).IsDraining);
    }

    [Fact]
    public async Task Heartbeat_OfANodeStartingAgainUnderTheSameId_ClearsAnOldDrainRequest()
    {
        await Store.HeartbeatAsync(new NodeHeartbeat(NodeA, ["default"], Draining: false), default);
        await Store.RequestDrainAsync(NodeA, default);

        Assert.False((await Store.HeartbeatAsync(new NodeHeartbeat(NodeA, ["default"], Draining: false, Starting: true), default)).DrainRequested);
        Assert.False(Assert.Single(await Store.ListNodesAsync(default)).IsDraining);
    }

    [Fact]
    public async Task RemoveNode_ForgetsItAndReleasesItsLeadership()
    {
        await Store.HeartbeatAsync(new NodeHeartbeat(NodeA, ["default"], Draining: false), default);
        Assert.True(await Store.TryLeadAsync("leader", NodeA, LongLease, default));

        await Store.RemoveNodeAsync(NodeA, default);

        Assert.Empty(await Store.ListNodesAsync(default));
        Assert.True(await Store.TryLeadAsync("leader", NodeB, LongLease, default));
    }

    [Fact]
    public async Task TryLead_OneHolderAtATime_UntilItExpiresOrResigns()
    {
        Assert.True(await Store.TryLeadAsync("leader", NodeA, LongLease, default));
        Assert.False(await Store.TryLeadAsync("leader", NodeB, LongLease, default));
        Assert.True(await Store.TryLeadAsync("leader", NodeA, ExpiredLease, default));
        Assert.True(await Store.TryLeadAsync("leader", NodeB, LongLease, default));
        Assert.False(await Store.TryLeadAsync("leader", NodeA, LongLease, default));

        await Store.ResignAsync("leader", NodeB, default);

        Assert.True(await Store.TryLeadAsync("leader", NodeA, LongLease, default));
    }

    [Fact]
    public async Task TryLead_ManyNodesAtOnce_ExactlyOneWins()
    {
        var wins = await Task.WhenAll(Enumerable.Range(0, 10).Select(i => Task.Run(() => Store.TryLeadAsync("leader", $"node-{i}", LongLease, default))));

        Assert.Single(wins, won => won);
    }

    [Fact]
    public async Task ListNodes_MarksTheLeader()
    {
        await Store.HeartbeatAsync(new NodeHeartbeat(NodeA, ["default"], Draining: false), default);
        await Store.HeartbeatAsync(new NodeHeartbeat(NodeB, ["default"], Draining: false), default);
        await Store.TryLeadAsync("leader", NodeB, LongLease, default);

        var nodes = await Store.ListNodesAsync(default);

        Assert.Equal([NodeB], nodes.Where(n => n.IsLeader).Select(n => n.Id));
    }

    [Fact]
    public async Task Prune_DeletesFinishedJobsPastTheirRetentionWithTheirHistory_AndReleasesTheirKeys()
    {
        var ids = await InsertAsync(TestJobs.New(idempotencyKey: "pruned"), TestJobs.New(), TestJobs.New(), TestJobs.New());
        var claimed = await ClaimAsync(NodeA, limit: 3);
        await CompleteAsync(Succeeded(claimed[0]), new Completion(claimed[1].Id, NodeA, 1, CompletionOutcome.Dead, Error: "x"), new Completion(claimed[2].Id, NodeA, 1, CompletionOutcome.Cancelled));

        Assert.Equal(0, await Store.PruneAsync(TimeSpan.FromHours(1), TimeSpan.FromHours(1), TimeSpan.FromHours(1), 100, default));
        Assert.Equal(1, await Store.PruneAsync(TimeSpan.Zero, TimeSpan.FromHours(1), TimeSpan.FromHours(1), 100, default));
        Assert.Equal(2, await Store.PruneAsync(TimeSpan.Zero, TimeSpan.Zero, TimeSpan.FromHours(1), 100, default));

        Assert.Equal([ids[3]], (await Store.ListAsync(new JobQuery(), default)).Select(j => j.Id));
        Assert.Empty(await Store.GetAttemptsAsync(ids[0], default));
        Assert.False((await Store.InsertManyAsync([TestJobs.New(idempotencyKey: "pruned")], default))[0].Existed);
    }

    [Fact]
    public async Task Prune_TakesAtMostTheLimitPerCall()
    {
        await InsertAsync([.. Enumerable.Range(0, 5).Select(_ => TestJobs.New())]);
        await CompleteAsync([.. (await ClaimAsync(NodeA, limit: 5)).Select(j => Succeeded(j))]);

        Assert.Equal(3, await Store.PruneAsync(TimeSpan.Zero, TimeSpan.Zero, TimeSpan.FromHours(1), 3, default));
        Assert.Equal(2, await Store.PruneAsync(TimeSpan.Zero, TimeSpan.Zero, TimeSpan.FromHours(1), 3, default));
    }

    private protected async Task<JobId[]> InsertAsync(params NewJob[] jobs) =>
        [.. (await Store.InsertManyAsync(jobs, default)).Select(j => j.Id)];

    private protected async Task<ClaimResult> ClaimAsync(string owner, string queue = "default", int limit = 10, TimeSpan? lease = null) =>
        await Store.ClaimAsync(new ClaimRequest(owner, lease ?? LongLease, [new QueueLimit(queue, limit)]), default);

    private protected Task<IReadOnlyList<Completion>> CompleteAsync(params Completion[] completions) =>
        Store.CompleteManyAsync(completions, default);

    private async Task<JobState[]> StatesAsync(IEnumerable<JobId> ids)
    {
        var states = new List<JobState>();
        foreach (var id in ids)
        {
            states.Add((await Store.GetAsync(id, default))!.State);
        }

        return [.. states];
    }

    private static Completion Succeeded(ClaimedJob job, string? result = null) =>
        new(job.Id, job.LeaseOwner, job.Attempt, CompletionOutcome.Succeeded, Result: result);

    private sealed class RecordingListener : IJobStoreListener
    {
        public TaskCompletionSource<string> Available { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public TaskCompletionSource<JobId> CancelRequested { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public void OnJobsAvailable(string queue) => Available.TrySetResult(queue);

        public void OnJobsScheduled(string queue, TimeSpan dueIn)
        {
        }

        public void OnCancelRequested(JobId id) => CancelRequested.TrySetResult(id);
    }
}
