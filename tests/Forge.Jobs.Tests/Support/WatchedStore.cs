using System.Diagnostics;
using Forge.Jobs.Storage;
using Microsoft.Extensions.Time.Testing;

namespace Forge.Jobs.Tests.Support;

/// <summary>Wraps a real store and signals every change, so a test can wait for a condition on the stored
/// jobs instead of sleeping. With a <see cref="FakeTimeProvider"/> it drives the clock while it waits.</summary>
internal sealed partial class WatchedStore(IJobStore inner) : IJobStore
{
    private TaskCompletionSource _changed = NewSignal();
    private int _completed;
    private int _renewals;
    private int _refused;
    private int _claims;
    private int _mostClaimed;
    private int _cutClaims;

    public IJobStore Inner => inner;

    /// <summary>Completions the inner store applied (not refused by its fence).</summary>
    public int Completed => Volatile.Read(ref _completed);

    public int Renewals => Volatile.Read(ref _renewals);

    /// <summary>Claims made, whatever they returned.</summary>
    public int Claims => Volatile.Read(ref _claims);

    /// <summary>The most jobs one claim returned.</summary>
    public int MostClaimedAtOnce => Volatile.Read(ref _mostClaimed);

    /// <summary>Claims that the byte budget cut short.</summary>
    public int CutClaims => Volatile.Read(ref _cutClaims);

    /// <summary>Completions the inner store refused by its fence.</summary>
    public int Refused => Volatile.Read(ref _refused);

    public async Task<IReadOnlyList<InsertedJob>> InsertManyAsync(IReadOnlyList<NewJob> jobs, CancellationToken cancellationToken) =>
        Changed(await inner.InsertManyAsync(jobs, cancellationToken));

    public async Task<ClaimResult> ClaimAsync(ClaimRequest request, CancellationToken cancellationToken)
    {
        var claimed = await inner.ClaimAsync(request, cancellationToken);
        Interlocked.Increment(ref _claims);
        if (claimed.Cut.Count > 0)
        {
            Interlocked.Increment(ref _cutClaims);
        }

        int most;
        while (claimed.Count > (most = Volatile.Read(ref _mostClaimed)) && Interlocked.CompareExchange(ref _mostClaimed, claimed.Count, most) != most)
        {
        }

        return Changed(claimed);
    }

    public async Task<IReadOnlyList<Completion>> CompleteManyAsync(IReadOnlyList<Completion> completions, CancellationToken cancellationToken)
    {
        var refused = await inner.CompleteManyAsync(completions, cancellationToken);
        Interlocked.Add(ref _completed, completions.Count - refused.Count);
        Interlocked.Add(ref _refused, refused.Count);
        return Changed(refused);
    }

    public async Task<LeaseRenewal> ExtendLeasesAsync(string leaseOwner, IReadOnlyList<LeaseRef> leases, TimeSpan leaseDuration, CancellationToken cancellationToken)
    {
        var renewal = await inner.ExtendLeasesAsync(leaseOwner, leases, leaseDuration, cancellationToken);
        Interlocked.Increment(ref _renewals);
        return Changed(renewal);
    }

    public Task<IReadOnlyList<ExpiredLease>> ListExpiredLeasesAsync(int limit, CancellationToken cancellationToken) =>
        inner.ListExpiredLeasesAsync(limit, cancellationToken);

    public async Task<IReadOnlyList<JobId>> ReleaseLeasesAsync(string leaseOwner, IReadOnlyCollection<JobId> keep, string reason, CancellationToken cancellationToken) =>
        Changed(await inner.ReleaseLeasesAsync(leaseOwner, keep, reason, cancellationToken));

    public async Task<CancelResult> CancelAsync(JobId id, CancellationToken cancellationToken) =>
        Changed(await inner.CancelAsync(id, cancellationToken));

    public async Task<bool> RetryAsync(JobId id, CancellationToken cancellationToken) =>
        Changed(await inner.RetryAsync(id, cancellationToken));

    public Task<JobInfo?> GetAsync(JobId id, CancellationToken cancellationToken) => inner.GetAsync(id, cancellationToken);

    public Task<IReadOnlyList<JobInfo>> ListAsync(JobQuery query, CancellationToken cancellationToken) => inner.ListAsync(query, cancellationToken);

    public Task<IReadOnlyList<JobAttempt>> GetAttemptsAsync(JobId id, CancellationToken cancellationToken) => inner.GetAttemptsAsync(id, cancellationToken);

    public Task InitializeAsync(CancellationToken cancellationToken) => inner.InitializeAsync(cancellationToken);

    public Task<DateTimeOffset> GetTimeAsync(CancellationToken cancellationToken) => inner.GetTimeAsync(cancellationToken);

    public async Task SetQueuePausedAsync(string queue, bool paused, CancellationToken cancellationToken)
    {
        await inner.SetQueuePausedAsync(queue, paused, cancellationToken);
        Changed(paused);
    }

    public Task<IReadOnlyList<QueueInfo>> ListQueuesAsync(CancellationToken cancellationToken) => inner.ListQueuesAsync(cancellationToken);

    public Task<IReadOnlyList<JobInfo>> GetParentsAsync(JobId id, CancellationToken cancellationToken) => inner.GetParentsAsync(id, cancellationToken);

    public Task<BatchInfo?> GetBatchAsync(BatchId id, CancellationToken cancellationToken) => inner.GetBatchAsync(id, cancellationToken);

    public async Task SetQueueConcurrencyAsync(string queue, int? concurrency, CancellationToken cancellationToken)
    {
        await inner.SetQueueConcurrencyAsync(queue, concurrency, cancellationToken);
        Changed(concurrency);
    }

    public async Task SetQueueGlobalLimitAsync(string queue, int? limit, CancellationToken cancellationToken)
    {
        await inner.SetQueueGlobalLimitAsync(queue, limit, cancellationToken);
        Changed(limit);
    }

    public Task<HeartbeatReply> HeartbeatAsync(NodeHeartbeat heartbeat, CancellationToken cancellationToken) => inner.HeartbeatAsync(heartbeat, cancellationToken);

    public Task RemoveNodeAsync(string nodeId, CancellationToken cancellationToken) => inner.RemoveNodeAsync(nodeId, cancellationToken);

    public Task<IReadOnlyList<NodeInfo>> ListNodesAsync(CancellationToken cancellationToken) => inner.ListNodesAsync(cancellationToken);

    public Task<bool> RequestDrainAsync(string nodeId, CancellationToken cancellationToken) => inner.RequestDrainAsync(nodeId, cancellationToken);

    public Task<bool> TryLeadAsync(string name, string holder, TimeSpan duration, CancellationToken cancellationToken) => inner.TryLeadAsync(name, holder, duration, cancellationToken);

    public Task ResignAsync(string name, string holder, CancellationToken cancellationToken) => inner.ResignAsync(name, holder, cancellationToken);

    public async Task<int> PruneAsync(TimeSpan succeededAge, TimeSpan failedAge, TimeSpan silentNodeAge, int limit, CancellationToken cancellationToken) =>
        Changed(await inner.PruneAsync(succeededAge, failedAge, silentNodeAge, limit, cancellationToken));

    public Task<IDisposable> SubscribeAsync(IJobStoreListener listener, CancellationToken cancellationToken) => inner.SubscribeAsync(listener, cancellationToken);

    /// <summary>Waits until <paramref name="condition"/> holds, re-checking after every change. With a
    /// <paramref name="clock"/>, advances it by <paramref name="step"/> whenever nothing changes for a moment.</summary>
    public async Task UntilAsync(Func<Task<bool>> condition, string what, FakeTimeProvider? clock = null, TimeSpan? step = null)
    {
        var elapsed = Stopwatch.StartNew();
        while (true)
        {
            var changed = Volatile.Read(ref _changed).Task;
            if (await condition())
            {
                return;
            }

            var left = Wait.Timeout - elapsed.Elapsed;
            if (left <= TimeSpan.Zero)
            {
                throw new TimeoutException($"Timed out after {Wait.Timeout.TotalSeconds} s waiting for {what}.");
            }

            if (clock is null)
            {
                await Task.WhenAny(changed, Task.Delay(left));
            }
            else if (await Task.WhenAny(changed, Task.Delay(TimeSpan.FromMilliseconds(20))) != changed)
            {
                clock.Advance(step ?? TimeSpan.FromSeconds(1));
            }
        }
    }

    public Task UntilStateAsync(JobId id, JobState state, FakeTimeProvider? clock = null, TimeSpan? step = null) =>
        UntilAsync(async () => (await inner.GetAsync(id, default))?.State == state, $"job {id} to be {state.ToName()}", clock, step);

    private static TaskCompletionSource NewSignal() => new(TaskCreationOptions.RunContinuationsAsynchronously);

    private T Changed<T>(T result)
    {
        Interlocked.Exchange(ref _changed, NewSignal()).TrySetResult();
        return result;
    }
}
