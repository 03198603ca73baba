namespace Forge.Jobs;

/// <summary>A queue as the cluster sees it: whether it is paused, its stored control settings, and how many of its
/// jobs are in each state.</summary>
public sealed record QueueInfo
{
    /// <summary>The queue's name.</summary>
    public required string Name { get; init; }

    /// <summary>Whether the queue is paused: no node claims its jobs until it is resumed.</summary>
    public required bool IsPaused { get; init; }

    /// <summary>The concurrency stored for every node with <see cref="IJobClient.SetQueueConcurrencyAsync"/>, or
    /// <see langword="null"/> when each node runs its configured <see cref="QueueOptions.Concurrency"/>.</summary>
    public int? Concurrency { get; init; }

    /// <summary>The cap on the queue's running jobs across all nodes, set with
    /// <see cref="IJobClient.SetQueueGlobalLimitAsync"/>, or <see langword="null"/> when there is none.</summary>
    public int? GlobalLimit { get; init; }

    /// <summary>How many jobs of the queue are in each state; states without jobs are absent.</summary>
    public required IReadOnlyDictionary<JobState, long> Counts { get; init; }
}
