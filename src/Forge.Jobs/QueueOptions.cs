namespace Forge.Jobs;

/// <summary>Options of one queue this node serves, declared with <see cref="ForgeJobsBuilder.AddQueue"/>.</summary>
public sealed class QueueOptions
{
    /// <summary>The queue every node serves unless told otherwise, and where jobs go when nothing names a queue.</summary>
    public const string DefaultQueue = "default";

    internal QueueOptions(string name) => Name = name;

    /// <summary>The queue's name: lower-case letters and digits, words joined by <c>_</c> or <c>-</c>, at most 64 characters.</summary>
    public string Name { get; }

    /// <summary>The most weight a queue can have.</summary>
    internal const int MaxWeight = 100;

    /// <summary>How many jobs of this queue this node runs at once, unless a concurrency set for the cluster with
    /// <see cref="IJobClient.SetQueueConcurrencyAsync"/> replaces it.</summary>
    /// <value>Defaults to 10.</value>
    public int Concurrency { get; set; } = 10;

    /// <summary>The queue's share of the node when <see cref="ForgeJobsOptions.MaxConcurrency"/> is too small for every
    /// queue to fill its free slots: slots go to the queues by weight, so a queue of weight 9 beside one of weight 1
    /// gets 9 of every 10 slots while both have jobs. Slots that a queue cannot use go to the others. Without a node
    /// cap, weights have no effect. From 1 to 100.</summary>
    /// <value>Defaults to 1.</value>
    public int Weight { get; set; } = 1;

    /// <summary>The most jobs the queue may hold waiting to run (available, scheduled or retrying; running jobs do
    /// not count). An enqueue that would pass it throws <see cref="QueueFullException"/> and stores nothing.
    /// Enforced by the processes that declare the queue. On PostgreSQL, enqueues to a bounded queue are serialized
    /// by a lock held until each enqueue's transaction commits, so the bound is exact.</summary>
    /// <value>Defaults to none: the queue is unbounded.</value>
    public int? MaxLength { get; set; }

    /// <summary>The retry backoff for jobs on this queue whose job type sets none.</summary>
    /// <value>Defaults to none: <see cref="ForgeJobsOptions.Backoff"/> applies.</value>
    public RetryBackoff? Backoff { get; set; }
}
