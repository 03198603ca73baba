using System.Collections.Concurrent;
using Forge.Jobs.Storage.InMemory;
using Forge.Jobs.Tests.Support;
using Microsoft.Extensions.DependencyInjection;

namespace Forge.Jobs.Tests.Processing;

public sealed class PayloadBudgetEngineTests
{
    // Each job's payload is about 700 bytes and a claim may take 2,048, so a claim takes two jobs. The jobs hold their
    // slots until released and the node polls once an hour: every job starts only if the fetcher claims again at once
    // when the budget, not an empty queue, left slots unfilled.
    [Fact]
    public async Task Engine_ClaimCutShortByTheByteBudget_ClaimsTheRestAtOnce()
    {
        var store = new WatchedStore(new InMemoryJobStore(TimeProvider.System));
        var held = new HeldJobs(expected: 10);
        await using var node = await TestNode.StartAsync(
            store,
            f => f
                .Configure(o =>
                {
                    o.MaxPayloadBytes = 1024;
                    o.MaxClaimBytes = 2048;
                    o.PollInterval = TimeSpan.FromHours(1);
                })
                .AddQueue("default", q => q.Concurrency = 10)
                .AddHandler<HeldBlobHandler, HeldBlob>(),
            services: s => s.AddSingleton(held));

        await node.Client.EnqueueManyAsync(Enumerable.Range(0, 10).Select(n => new HeldBlob(n, new string('x', 700))));
        await Wait.For(held.AllStarted.Task, "all 10 jobs to start while none has finished");
        held.Release.TrySetResult();
        await store.UntilAsync(() => Task.FromResult(store.Completed == 10), "10 outcomes to be stored");

        Assert.Equal(10, held.Started.Count);
        Assert.InRange(store.MostClaimedAtOnce, 1, 2);
        Assert.True(store.CutClaims > 0, "No claim was cut short by the byte budget.");
    }

    [JobType("held_blob")]
    internal sealed record HeldBlob(int N, string Data);

    internal sealed class HeldJobs(int expected)
    {
        public ConcurrentDictionary<int, bool> Started { get; } = new();

        public TaskCompletionSource AllStarted { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public TaskCompletionSource Release { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public Task RunAsync(int n, CancellationToken cancellationToken)
        {
            Started.TryAdd(n, true);
            if (Started.Count == expected)
            {
                AllStarted.TrySetResult();
            }

            return Release.Task.WaitAsync(cancellationToken);
        }
    }

    internal sealed class HeldBlobHandler(HeldJobs held) : IJobHandler<HeldBlob>
    {
        public Task HandleAsync(HeldBlob job, JobContext context, CancellationToken cancellationToken) => held.RunAsync(job.N, cancellationToken);
    }
}
