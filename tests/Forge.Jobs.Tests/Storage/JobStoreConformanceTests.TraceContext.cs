using Forge.Jobs.Storage;
using Forge.Jobs.Tests.Support;

namespace Forge.Jobs.Tests.Storage;

/// <summary>The W3C trace context stored with a job at enqueue comes back with every claim of it, so an attempt's span
/// can link to where the job was enqueued; a job enqueued without one has none.</summary>
public abstract partial class JobStoreConformanceTests
{
    private const string TraceParent = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01";
    private const string OtherTraceParent = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-00";

    [Fact]
    public async Task Claim_OneJobInsertedWithATraceContext_ReturnsIt()
    {
        await InsertAsync(TestJobs.New() with { TraceParent = TraceParent, TraceState = "vendor=value" });

        var claimed = Assert.Single(await ClaimAsync(NodeA));

        Assert.Equal(TraceParent, claimed.TraceParent);
        Assert.Equal("vendor=value", claimed.TraceState);
    }

    [Fact]
    public async Task Claim_JobsInsertedTogether_ReturnEachItsOwnTraceContextOrNone()
    {
        var ids = await InsertAsync(
            TestJobs.New(idempotencyKey: "traced") with { TraceParent = TraceParent },
            TestJobs.New(),
            TestJobs.New() with { TraceParent = OtherTraceParent, TraceState = "a=1,b=2" });

        var claimed = (await ClaimAsync(NodeA)).ToDictionary(j => j.Id);

        Assert.Equal((TraceParent, (string?)null), (claimed[ids[0]].TraceParent, claimed[ids[0]].TraceState));
        Assert.Equal(((string?)null, (string?)null), (claimed[ids[1]].TraceParent, claimed[ids[1]].TraceState));
        Assert.Equal((OtherTraceParent, "a=1,b=2"), (claimed[ids[2]].TraceParent, claimed[ids[2]].TraceState));
    }

    [Fact]
    public async Task Claim_JobsInsertedWithoutATraceContext_HaveNone()
    {
        await InsertAsync(TestJobs.New());
        await InsertAsync(TestJobs.New(), TestJobs.New(idempotencyKey: "untraced"));

        var claimed = await ClaimAsync(NodeA);

        Assert.Equal(3, claimed.Count);
        Assert.All(claimed, job => Assert.True(job.TraceParent is null && job.TraceState is null));
    }

    [Fact]
    public async Task Claim_ARetriedJob_ReturnsItsTraceContextAgain()
    {
        await InsertAsync(TestJobs.New() with { TraceParent = TraceParent });
        var first = Assert.Single(await ClaimAsync(NodeA));
        await CompleteAsync(new Completion(first.Id, NodeA, first.Attempt, CompletionOutcome.Released));

        var second = Assert.Single(await ClaimAsync(NodeB));

        Assert.Equal(2, second.Attempt);
        Assert.Equal(TraceParent, second.TraceParent);
    }
}
