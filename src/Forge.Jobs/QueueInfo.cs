namespace Forge.Jobs;

/// <summary>A queue as the cluster sees it: whether it is paused and how many of its jobs are in each state.</summary>
public sealed record QueueInfo
{
    /// <summary>The queue's name.</summary>
    public required string Name { get; init; }

    /// <summary>Whether the queue is paused: no node claims its jobs until it is resumed.</summary>
    public required bool IsPaused { get; init; }

    /// <summary>How many jobs of the queue are in each state; states without jobs are absent.</summary>
    public required IReadOnlyDictionary<JobState, long> Counts { get; init; }
}
