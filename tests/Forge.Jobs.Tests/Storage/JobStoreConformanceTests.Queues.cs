using Forge.Jobs.Storage;
using Forge.Jobs.Tests.Support;

namespace Forge.Jobs.Tests.Storage;

/// <summary>Queue control and the claim's next-due answer: delays, priorities across owners, global limits, and the
/// settings nodes read with their heartbeat.</summary>
public abstract partial class JobStoreConformanceTests
{
    [Fact]
    public async Task Claim_QueueLeftShort_SaysWhenItsNextScheduledJobIsDue()
    {
        await InsertAsync(TestJobs.New(), TestJobs.New(runAt: DateTimeOffset.UtcNow.AddHours(1)), TestJobs.New(delay: TimeSpan.FromHours(2)));

        var claimed = await ClaimAsync(NodeA, limit: 10);

        Assert.Single(claimed);
        Assert.InRange(claimed.NextDueIn!.Value, TimeSpan.FromMinutes(59), TimeSpan.FromMinutes(61));
    }

    [Fact]
    public async Task Claim_EveryQueueFilled_SaysNothingOfLaterJobs()
    {
        await InsertAsync(TestJobs.New(), TestJobs.New(), TestJobs.New(delay: TimeSpan.FromHours(1)));

        var claimed = await ClaimAsync(NodeA, limit: 2);

        Assert.Equal(2, claimed.Count);
        Assert.Null(claimed.NextDueIn);
    }

    [Fact]
    public async Task Claim_NextDue_CountsRetryingJobs()
    {
        await InsertAsync(TestJobs.New());
        var job = Assert.Single(await ClaimAsync(NodeA));
        await CompleteAsync(new Completion(job.Id, NodeA, job.Attempt, CompletionOutcome.Retry, Error: "x", RetryDelay: TimeSpan.FromMinutes(30)));

        var claimed = await ClaimAsync(NodeA);

        Assert.Empty(claimed);
        Assert.InRange(claimed.NextDueIn!.Value, TimeSpan.FromMinutes(29), TimeSpan.FromMinutes(31));
    }

    [Fact]
    public async Task Claim_NextDue_IsTheEarliestOfTheShortQueuesClaimed_NotOfPausedOrOtherQueues()
    {
        await InsertAsync(
            TestJobs.New(queue: "a", delay: TimeSpan.FromHours(3)),
            TestJobs.New(queue: "b", delay: TimeSpan.FromHours(2)),
            TestJobs.New(queue: "paused", delay: TimeSpan.FromMinutes(1)),
            TestJobs.New(queue: "unclaimed", delay: TimeSpan.FromMinutes(1)));
        await Store.SetQueuePausedAsync("paused", paused: true, default);

        var claimed = await Store.ClaimAsync(new ClaimRequest(NodeA, LongLease, [new("a", 5), new("b", 5), new("paused", 5)]), default);

        Assert.Empty(claimed);
        Assert.InRange(claimed.NextDueIn!.Value, TimeSpan.FromMinutes(119), TimeSpan.FromMinutes(121));
    }

    [Fact]
    public async Task Claim_NoLaterJob_SaysNothing()
    {
        await InsertAsync(TestJobs.New());

        var claimed = await ClaimAsync(NodeA, limit: 5);

        Assert.Single(claimed);
        Assert.Null(claimed.NextDueIn);
    }

    [Fact]
    public async Task Claim_GlobalLimit_TwoOwnersTogetherNeverPassIt_AndAFinishedJobMakesRoom()
    {
        await InsertAsync([.. Enumerable.Range(0, 10).Select(_ => TestJobs.New())]);
        await Store.SetQueueGlobalLimitAsync("default", 3, default);

        var first = await ClaimAsync(NodeA, limit: 2);
        var second = await ClaimAsync(NodeB, limit: 5);
        var full = await ClaimAsync(NodeB, limit: 5);
        await CompleteAsync(Succeeded(first[0]));
        var afterCompletion = await ClaimAsync(NodeB, limit: 5);
        await CompleteAsync(new Completion(first[1].Id, NodeA, first[1].Attempt, CompletionOutcome.Released));
        var afterRelease = await ClaimAsync(NodeB, limit: 5);

        Assert.Equal((2, 1, 0, 1, 1), (first.Count, second.Count, full.Count, afterCompletion.Count, afterRelease.Count));
    }

    [Fact]
    public async Task Claim_GlobalLimit_ManyOwnersClaimingAtOnce_TakeExactlyTheLimit()
    {
        await InsertAsync([.. Enumerable.Range(0, 50).Select(_ => TestJobs.New())]);
        await Store.SetQueueGlobalLimitAsync("default", 5, default);

        var claims = await Task.WhenAll(Enumerable.Range(0, 10).Select(i => Task.Run(() => ClaimAsync($"node-{i}", limit: 3))));

        Assert.Equal(5, claims.Sum(c => c.Count));
        Assert.Equal(5, claims.SelectMany(c => c).Select(j => j.Id).Distinct().Count());
    }

    [Fact]
    public async Task Claim_GlobalLimitLowered_RunningJobsStay_AndNoneIsClaimedUntilFewerRun()
    {
        await InsertAsync([.. Enumerable.Range(0, 10).Select(_ => TestJobs.New())]);
        await Store.SetQueueGlobalLimitAsync("default", 4, default);
        var running = await ClaimAsync(NodeA, limit: 10);

        await Store.SetQueueGlobalLimitAsync("default", 2, default);
        var whileAbove = await ClaimAsync(NodeB);
        await CompleteAsync(Succeeded(running[0]), Succeeded(running[1]));
        var atTheLimit = await ClaimAsync(NodeB);
        await CompleteAsync(Succeeded(running[2]));
        var belowIt = await ClaimAsync(NodeB);

        Assert.Equal((4, 0, 0, 1), (running.Count, whileAbove.Count, atTheLimit.Count, belowIt.Count));
        Assert.Equal(JobState.Running, (await Store.GetAsync(running[3].Id, default))!.State);
    }

    [Fact]
    public async Task Claim_GlobalLimitRemoved_TakesUpToTheOwnersLimit()
    {
        await InsertAsync([.. Enumerable.Range(0, 10).Select(_ => TestJobs.New())]);
        await Store.SetQueueGlobalLimitAsync("default", 1, default);
        Assert.Single(await ClaimAsync(NodeA, limit: 5));

        await Store.SetQueueGlobalLimitAsync("default", null, default);

        Assert.Equal(5, (await ClaimAsync(NodeA, limit: 5)).Count);
    }

    [Fact]
    public async Task Claim_GlobalLimitOfOneQueue_LeavesOtherQueuesAlone()
    {
        await InsertAsync([.. Enumerable.Range(0, 4).SelectMany(_ => new[] { TestJobs.New(queue: "limited"), TestJobs.New(queue: "free") })]);
        await Store.SetQueueGlobalLimitAsync("limited", 1, default);

        var claimed = await Store.ClaimAsync(new ClaimRequest(NodeA, LongLease, [new("limited", 4), new("free", 4)]), default);

        Assert.Equal((1, 4), (claimed.Count(j => j.Queue == "limited"), claimed.Count(j => j.Queue == "free")));
    }

    [Fact]
    public async Task QueueSettings_AreListedWithTheQueue_AndNullRemovesThem()
    {
        await Store.SetQueueConcurrencyAsync("emails", 4, default);
        await Store.SetQueueGlobalLimitAsync("emails", 7, default);
        await Store.SetQueueGlobalLimitAsync("reports", 2, default);

        var listed = await Store.ListQueuesAsync(default);
        await Store.SetQueueConcurrencyAsync("emails", null, default);
        var afterConcurrencyCleared = await Store.ListQueuesAsync(default);
        await Store.SetQueueGlobalLimitAsync("emails", null, default);

        Assert.Equal([("emails", (int?)4, (int?)7, false), ("reports", null, 2, false)], listed.Select(q => (q.Name, q.Concurrency, q.GlobalLimit, q.IsPaused)));
        Assert.Equal((null, 7), (afterConcurrencyCleared[0].Concurrency, afterConcurrencyCleared[0].GlobalLimit));
        Assert.Equal(["reports"], (await Store.ListQueuesAsync(default)).Select(q => q.Name));
    }

    [Fact]
    public async Task QueueSettings_OfAPausedQueue_SurviveItsResume()
    {
        await Store.SetQueuePausedAsync("emails", paused: true, default);
        await Store.SetQueueConcurrencyAsync("emails", 3, default);

        await Store.SetQueuePausedAsync("emails", paused: false, default);

        var queue = Assert.Single(await Store.ListQueuesAsync(default));
        Assert.Equal(("emails", false, (int?)3), (queue.Name, queue.IsPaused, queue.Concurrency));
    }

    [Fact]
    public async Task Heartbeat_ReturnsTheSettingsOfTheNodesOwnQueues()
    {
        await Store.SetQueueConcurrencyAsync("emails", 4, default);
        await Store.SetQueueGlobalLimitAsync("reports", 2, default);
        await Store.SetQueueConcurrencyAsync("elsewhere", 9, default);
        await Store.SetQueuePausedAsync("default", paused: true, default);

        var reply = await Store.HeartbeatAsync(new NodeHeartbeat(NodeA, ["default", "emails", "reports"], Draining: false, Starting: true), default);

        Assert.False(reply.DrainRequested);
        Assert.Equal([new QueueSettings("emails", 4, null), new QueueSettings("reports", null, 2)], reply.Queues.OrderBy(q => q.Queue, StringComparer.Ordinal));
    }

    [Fact]
    public async Task SetQueueGlobalLimit_HintsTheQueue()
    {
        var listener = new QueueHintListener();
        using var subscription = await Store.SubscribeAsync(listener, default);

        await Store.SetQueueGlobalLimitAsync("limited", 3, default);

        Assert.Equal("limited", await Wait.For(listener.Available.Task, "the jobs-available hint"));
    }

    [Fact]
    public async Task Subscribe_InsertOfALaterJob_HintsItsQueueAndWhenItIsDue()
    {
        var listener = new QueueHintListener();
        using var subscription = await Store.SubscribeAsync(listener, default);

        await InsertAsync(TestJobs.New(queue: "later", delay: TimeSpan.FromHours(2)), TestJobs.New(queue: "later", delay: TimeSpan.FromHours(1)));

        var (queue, dueIn) = await Wait.For(listener.Scheduled.Task, "the jobs-scheduled hint");
        Assert.Equal("later", queue);
        Assert.InRange(dueIn, TimeSpan.FromMinutes(59), TimeSpan.FromMinutes(61));
    }

    private sealed class QueueHintListener : IJobStoreListener
    {
        public TaskCompletionSource<string> Available { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public TaskCompletionSource<(string Queue, TimeSpan DueIn)> Scheduled { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public void OnJobsAvailable(string queue) => Available.TrySetResult(queue);

        public void OnJobsScheduled(string queue, TimeSpan dueIn) => Scheduled.TrySetResult((queue, dueIn));

        public void OnCancelRequested(JobId id)
        {
        }
    }
}
