namespace Forge.Jobs.Storage;

/// <summary>Queue control: settings stored for the whole cluster. Nodes read them with their heartbeat
/// (<see cref="HeartbeatReply.Queues"/>); the global limit is enforced by the claim itself.</summary>
internal partial interface IJobStore
{
    /// <summary>Stores the number of jobs of <paramref name="queue"/> that each node runs at once, or removes it
    /// (<see langword="null"/>), so that each node runs its configured <see cref="QueueOptions.Concurrency"/>.</summary>
    Task SetQueueConcurrencyAsync(string queue, int? concurrency, CancellationToken cancellationToken);

    /// <summary>Stores a cap on the running jobs of <paramref name="queue"/> across all nodes, or removes it
    /// (<see langword="null"/>). Claims never take the queue past it; running jobs above a lowered cap finish.
    /// Hints the queue's nodes, since a raised or removed cap may leave room at once.</summary>
    Task SetQueueGlobalLimitAsync(string queue, int? limit, CancellationToken cancellationToken);
}
