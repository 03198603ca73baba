using System.Collections;

namespace Forge.Jobs.Storage;

/// <summary>What one claim took, in claim order, and when the fetcher should look again if it came back short:
/// <see cref="NextDueIn"/> is how long until the earliest scheduled or retrying job is due in the queues that got
/// fewer jobs than they asked for. It is measured on the store's clock from the moment of the claim, so a node whose
/// clock differs from the store's still wakes on time.</summary>
internal sealed class ClaimResult(IReadOnlyList<ClaimedJob> jobs, TimeSpan? nextDueIn, IReadOnlyList<string>? cut = null) : IReadOnlyList<ClaimedJob>
{
    public static readonly ClaimResult Empty = new([], null);

    /// <summary>Null when every queue got all it asked for (the store then does not look), or when no such job waits.</summary>
    public TimeSpan? NextDueIn { get; } = nextDueIn;

    /// <summary>The queues that had more due jobs than the claim's byte budget let it take: they got fewer jobs than
    /// asked without being empty.</summary>
    public IReadOnlyList<string> Cut { get; } = cut ?? [];

    public int Count => jobs.Count;

    public ClaimedJob this[int index] => jobs[index];

    public IEnumerator<ClaimedJob> GetEnumerator() => jobs.GetEnumerator();

    IEnumerator IEnumerable.GetEnumerator() => GetEnumerator();
}

/// <summary>The stored control settings of one queue: a concurrency for every node (null: each node's configured
/// <see cref="QueueOptions.Concurrency"/>) and a cap on its running jobs across the cluster (null: none).</summary>
internal sealed record QueueSettings(string Queue, int? Concurrency, int? GlobalLimit);

/// <summary>The store's answer to a heartbeat: whether a drain of the node was requested, and the settings of those
/// of its queues that have any.</summary>
internal sealed record HeartbeatReply(bool DrainRequested, IReadOnlyList<QueueSettings> Queues);
