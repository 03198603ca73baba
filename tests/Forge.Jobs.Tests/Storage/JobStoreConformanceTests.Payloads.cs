using Forge.Jobs.Storage;
using Forge.Jobs.Tests.Support;

namespace Forge.Jobs.Tests.Storage;

/// <summary>The claim's byte budget: jobs are taken in claim order, across queues, while their payloads fit in it, and
/// never fewer than one.</summary>
public abstract partial class JobStoreConformanceTests
{
    [Fact]
    public async Task Claim_WithAByteBudget_TakesOnlyTheJobsWhosePayloadsFit()
    {
        var ids = await InsertAsync([.. Enumerable.Range(0, 5).Select(_ => TestJobs.New(payload: PayloadOf(100)))]);

        var claimed = await ClaimWithinAsync(250, new QueueLimit("default", 10));

        Assert.Equal(ids[..2], claimed.Select(j => j.Id));
        Assert.Equal(["default"], claimed.Cut);
        Assert.Equal(ids[2..], (await ClaimAsync(NodeB, limit: 10)).Select(j => j.Id));
    }

    [Fact]
    public async Task Claim_PayloadsAddingUpToExactlyTheBudget_AreAllTaken()
    {
        var ids = await InsertAsync([.. Enumerable.Range(0, 4).Select(_ => TestJobs.New(payload: PayloadOf(100)))]);

        var claimed = await ClaimWithinAsync(300, new QueueLimit("default", 10));

        Assert.Equal(ids[..3], claimed.Select(j => j.Id));
    }

    [Fact]
    public async Task Claim_FirstJobAloneLargerThanTheBudget_TakesItAlone()
    {
        var ids = await InsertAsync(TestJobs.New(payload: PayloadOf(5_000)), TestJobs.New(payload: PayloadOf(100)));

        var claimed = await ClaimWithinAsync(1_000, new QueueLimit("default", 10));

        Assert.Equal([ids[0]], claimed.Select(j => j.Id));
        Assert.Equal(["default"], claimed.Cut);
    }

    [Fact]
    public async Task Claim_ByteBudget_StopsAtTheFirstJobThatDoesNotFit()
    {
        // The third job would pass the budget; the smaller fourth would fit, but jobs are taken in claim order.
        var ids = await InsertAsync(
            TestJobs.New(payload: PayloadOf(100)), TestJobs.New(payload: PayloadOf(100)), TestJobs.New(payload: PayloadOf(900)), TestJobs.New(payload: PayloadOf(10)));

        var claimed = await ClaimWithinAsync(500, new QueueLimit("default", 10));

        Assert.Equal(ids[..2], claimed.Select(j => j.Id));
    }

    [Fact]
    public async Task Claim_ByteBudget_IsSpentInClaimOrderAcrossQueues()
    {
        var low = await InsertAsync(TestJobs.New(queue: "a", payload: PayloadOf(100)), TestJobs.New(queue: "a", payload: PayloadOf(100)));
        var high = await InsertAsync(
            TestJobs.New(queue: "b", priority: JobPriority.High, payload: PayloadOf(100)), TestJobs.New(queue: "b", priority: JobPriority.High, payload: PayloadOf(100)));

        var claimed = await ClaimWithinAsync(300, new QueueLimit("a", 5), new QueueLimit("b", 5));

        Assert.Equal([high[0], high[1], low[0]], claimed.Select(j => j.Id));
        Assert.Equal(["a"], claimed.Cut);
    }

    [Fact]
    public async Task Claim_EverythingFitsTheBudget_CutsNoQueue()
    {
        await InsertAsync(TestJobs.New(payload: PayloadOf(100)), TestJobs.New(payload: PayloadOf(100)));

        var claimed = await ClaimWithinAsync(1_000, new QueueLimit("default", 10));

        Assert.Equal(2, claimed.Count);
        Assert.Empty(claimed.Cut);
    }

    private async Task<ClaimResult> ClaimWithinAsync(long maxBytes, params QueueLimit[] queues) =>
        await Store.ClaimAsync(new ClaimRequest(NodeA, LongLease, queues, maxBytes), default);

    /// <summary>A JSON payload of exactly <paramref name="bytes"/> bytes.</summary>
    private static string PayloadOf(int bytes) => $$"""{"d":"{{new string('x', bytes - 8)}}"}""";
}
