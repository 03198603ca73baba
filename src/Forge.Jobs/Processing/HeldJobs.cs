using System.Collections.Concurrent;
using Forge.Jobs.Storage;

namespace Forge.Jobs.Processing;

/// <summary>The attempts this node knows it holds a lease for: from the claim that returned them until the store has
/// answered their outcome (or the handler stored it itself), whether they wait in a queue's channel, run, or wait for
/// the completer. The node id is the lease owner and unique to the process, so a job running under it that is not here
/// was taken by a claim whose answer never arrived; only the fetcher claims, so while it hands such jobs back
/// (<see cref="JobFetcher"/>) no claim is under way whose jobs could be missing here.</summary>
internal sealed class HeldJobs
{
    private readonly ConcurrentDictionary<JobId, int> _attempts = new();

    public void Add(ClaimedJob job) => _attempts[job.Id] = job.Attempt;

    /// <summary>Forgets the given attempt only: a later attempt of the same job is another hold.</summary>
    public void Remove(JobId id, int attempt) => _attempts.TryRemove(KeyValuePair.Create(id, attempt));

    public JobId[] Ids() => [.. _attempts.Keys];
}
