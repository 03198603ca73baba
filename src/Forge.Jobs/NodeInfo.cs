namespace Forge.Jobs;

/// <summary>A node of the cluster as the store last heard of it.</summary>
public sealed record NodeInfo
{
    /// <summary>The node's id (<see cref="ForgeJobsOptions.NodeId"/>).</summary>
    public required string Id { get; init; }

    /// <summary>The queues it serves.</summary>
    public required IReadOnlyList<string> Queues { get; init; }

    /// <summary>When it started.</summary>
    public required DateTimeOffset StartedAt { get; init; }

    /// <summary>Its last heartbeat, on the store's clock.</summary>
    public required DateTimeOffset HeartbeatAt { get; init; }

    /// <summary>Whether it is draining or has been asked to.</summary>
    public required bool IsDraining { get; init; }

    /// <summary>Whether it currently leads the cluster (runs the rescuer and the pruner).</summary>
    public required bool IsLeader { get; init; }
}
