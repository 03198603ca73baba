using Forge.Jobs.Storage;
using Forge.Jobs.Tests.Support;

namespace Forge.Jobs.Tests.Storage;

public abstract partial class JobStoreConformanceTests
{
    [Fact]
    public async Task Dependency_ChildWaitsUntilItsParentSucceeds_ThenIsAvailable()
    {
        var parent = (await InsertAsync(TestJobs.New()))[0];
        var child = (await InsertAsync(TestJobs.New() with { DependsOn = [new NewDependency(parent, null, false)] }))[0];

        Assert.Equal(JobState.Waiting, (await Store.GetAsync(child, default))!.State);
        var claimed = Assert.Single(await ClaimAsync(NodeA));
        Assert.Equal(parent, claimed.Id);

        await CompleteAsync(Succeeded(claimed));

        var released = await Store.GetAsync(child, default);
        Assert.Equal(JobState.Available, released!.State);
        Assert.Equal([parent], released.DependsOn);
        Assert.Equal(child, Assert.Single(await ClaimAsync(NodeA)).Id);
    }

    [Fact]
    public async Task Dependency_OnParentThatAlreadySucceeded_IsAvailableAtOnce()
    {
        var parent = (await InsertAsync(TestJobs.New()))[0];
        await CompleteAsync(Succeeded(Assert.Single(await ClaimAsync(NodeA))));

        var child = (await InsertAsync(TestJobs.New() with { DependsOn = [new NewDependency(parent, null, false)] }))[0];

        Assert.Equal(JobState.Available, (await Store.GetAsync(child, default))!.State);
    }

    [Fact]
    public async Task Dependency_OnMissingParent_IsRejected_AndStoresNothing()
    {
        var ok = TestJobs.New();
        var orphan = TestJobs.New() with { DependsOn = [new NewDependency(new JobId(987_654_321), null, false)] };

        var error = await Assert.ThrowsAsync<ArgumentException>(() => Store.InsertManyAsync([ok, orphan], default));

        Assert.Contains("987654321", error.Message, StringComparison.Ordinal);
        Assert.Empty(await Store.ListAsync(new JobQuery(), default));
    }

    [Fact]
    public async Task Dependency_ParentDies_CancelsTheChildAndItsDescendants_ButNotARunAnywayChild()
    {
        var parent = (await InsertAsync(TestJobs.New()))[0];
        var ids = await InsertAsync(
            TestJobs.New() with { DependsOn = [new NewDependency(parent, null, false)] },
            TestJobs.New() with { DependsOn = [new NewDependency(null, 0, false)] },
            TestJobs.New() with { DependsOn = [new NewDependency(parent, null, true)] });
        var (child, grandchild, runAnyway) = (ids[0], ids[1], ids[2]);
        var claimed = Assert.Single(await ClaimAsync(NodeA));

        await CompleteAsync(new Completion(claimed.Id, NodeA, 1, CompletionOutcome.Dead, Error: "boom"));

        Assert.Equal(JobState.Cancelled, (await Store.GetAsync(child, default))!.State);
        var cancelled = await Store.GetAsync(grandchild, default);
        Assert.Equal(JobState.Cancelled, cancelled!.State);
        Assert.NotNull(cancelled.FinishedAt);
        Assert.Contains("depends on", cancelled.LastError, StringComparison.Ordinal);
        Assert.Equal(JobState.Available, (await Store.GetAsync(runAnyway, default))!.State);
    }

    [Fact]
    public async Task Dependency_CancellingAWaitingJob_CancelsItsChildren()
    {
        var parent = (await InsertAsync(TestJobs.New(runAt: DateTimeOffset.UtcNow.AddHours(1))))[0];
        var ids = await InsertAsync(
            TestJobs.New() with { DependsOn = [new NewDependency(parent, null, false)] },
            TestJobs.New() with { DependsOn = [new NewDependency(null, 0, false)] });

        Assert.Equal(CancelResult.Cancelled, await Store.CancelAsync(ids[0], default));

        Assert.Equal(JobState.Scheduled, (await Store.GetAsync(parent, default))!.State);
        Assert.Equal(JobState.Cancelled, (await Store.GetAsync(ids[1], default))!.State);
    }

    [Fact]
    public async Task Dependency_OnParentThatAlreadyDied_IsBornCancelled_WithItsChildrenInTheSameCall()
    {
        var parent = (await InsertAsync(TestJobs.New(maxRetries: 0)))[0];
        await CompleteAsync(new Completion(Assert.Single(await ClaimAsync(NodeA)).Id, NodeA, 1, CompletionOutcome.Dead, Error: "boom"));

        var ids = await InsertAsync(
            TestJobs.New() with { DependsOn = [new NewDependency(parent, null, false)] },
            TestJobs.New() with { DependsOn = [new NewDependency(null, 0, false)] },
            TestJobs.New() with { DependsOn = [new NewDependency(null, 0, true)] });

        Assert.Equal(JobState.Cancelled, (await Store.GetAsync(ids[0], default))!.State);
        Assert.Equal(JobState.Cancelled, (await Store.GetAsync(ids[1], default))!.State);
        Assert.Equal(JobState.Available, (await Store.GetAsync(ids[2], default))!.State);
    }

    [Fact]
    public async Task Dependency_ChildWithTwoParents_WaitsForBoth()
    {
        var parents = await InsertAsync(TestJobs.New(), TestJobs.New());
        var child = (await InsertAsync(TestJobs.New() with { DependsOn = [new NewDependency(parents[0], null, false), new NewDependency(parents[1], null, false)] }))[0];
        var claimed = await ClaimAsync(NodeA);

        await CompleteAsync(Succeeded(claimed[0]));
        Assert.Equal(JobState.Waiting, (await Store.GetAsync(child, default))!.State);

        await CompleteAsync(Succeeded(claimed[1]));
        Assert.Equal(JobState.Available, (await Store.GetAsync(child, default))!.State);
    }

    [Fact]
    public async Task Dependency_ParentsAreReadableWithTheirResults()
    {
        var parents = await InsertAsync(TestJobs.New(), TestJobs.New());
        var child = (await InsertAsync(TestJobs.New() with { DependsOn = [new NewDependency(parents[1], null, false), new NewDependency(parents[0], null, false)] }))[0];
        var claimed = await ClaimAsync(NodeA);
        await CompleteAsync(Succeeded(claimed[0], result: "1"), Succeeded(claimed[1], result: "2"));

        var read = await Store.GetParentsAsync(child, default);

        Assert.Equal(parents, read.Select(p => p.Id));
        Assert.Equal(["1", "2"], read.Select(p => p.Result));
    }

    [Fact]
    public async Task Dependency_RescueToDead_CancelsTheChild()
    {
        var parent = (await InsertAsync(TestJobs.New(maxRetries: 0)))[0];
        var child = (await InsertAsync(TestJobs.New() with { DependsOn = [new NewDependency(parent, null, false)] }))[0];
        var claimed = Assert.Single(await ClaimAsync(NodeA, lease: ExpiredLease));

        await CompleteAsync(new Completion(claimed.Id, NodeA, 1, CompletionOutcome.Dead, Error: "lease expired", Rescue: true));

        Assert.Equal(JobState.Cancelled, (await Store.GetAsync(child, default))!.State);
    }

    [Fact]
    public async Task Prune_KeepsAFinishedParentWhileItsChildWaits()
    {
        var parents = await InsertAsync(TestJobs.New(), TestJobs.New(runAt: DateTimeOffset.UtcNow.AddHours(1)));
        var child = (await InsertAsync(TestJobs.New() with { DependsOn = [new NewDependency(parents[0], null, false), new NewDependency(parents[1], null, false)] }))[0];
        await CompleteAsync(Succeeded(Assert.Single(await ClaimAsync(NodeA))));

        Assert.Equal(0, await Store.PruneAsync(TimeSpan.Zero, TimeSpan.Zero, TimeSpan.FromHours(1), 10, default));
        Assert.NotNull(await Store.GetAsync(parents[0], default));
        Assert.Equal(JobState.Waiting, (await Store.GetAsync(child, default))!.State);
    }

    [Fact]
    public async Task Batch_CountsItsJobsByState_AndReleasesItsCallbackOnceAllFinished()
    {
        var batch = new BatchId(Guid.CreateVersion7());
        var ids = await InsertAsync(
            TestJobs.New() with { Batch = batch },
            TestJobs.New(maxRetries: 0) with { Batch = batch },
            TestJobs.New(queue: "callbacks") with { Batch = batch, IsBatchCallback = true, DependsOn = [new NewDependency(null, 0, true), new NewDependency(null, 1, true)] });

        var info = await Store.GetBatchAsync(batch, default);
        Assert.NotNull(info);
        Assert.Equal(2, info.Total);
        Assert.Equal(ids[2], info.CallbackJobId);
        Assert.Equal(2, info.Count(JobState.Available));
        Assert.False(info.IsFinished);
        Assert.Equal(JobState.Waiting, (await Store.GetAsync(ids[2], default))!.State);
        Assert.Equal(batch, (await Store.GetAsync(ids[2], default))!.Batch);

        var claimed = await ClaimAsync(NodeA);
        await CompleteAsync(Succeeded(claimed[0]), new Completion(claimed[1].Id, NodeA, 1, CompletionOutcome.Dead, Error: "boom"));

        info = await Store.GetBatchAsync(batch, default);
        Assert.Equal(1, info!.Count(JobState.Succeeded));
        Assert.Equal(1, info.Count(JobState.Dead));
        Assert.True(info.IsFinished);
        Assert.Equal(1.0, info.Progress);
        Assert.Equal(ids[2], Assert.Single(await ClaimAsync(NodeA, queue: "callbacks")).Id);
    }

    [Fact]
    public async Task Batch_Unknown_IsNull()
    {
        Assert.Null(await Store.GetBatchAsync(new BatchId(Guid.CreateVersion7()), default));
    }
}
