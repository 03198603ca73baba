namespace Forge.Jobs;

/// <summary>This process's node of the cluster: the engine that claims and runs jobs.</summary>
public interface IJobNode
{
    /// <summary>The node's id, stamped as the lease owner of the jobs it runs.</summary>
    string NodeId { get; }

    /// <summary>Whether the node has stopped claiming new jobs (it is draining or shutting down).</summary>
    bool IsDraining { get; }

    /// <summary>Stops claiming new jobs and completes when every job the node holds has finished and its
    /// outcome is stored. The node stays stopped afterwards; the host shuts it down as usual.</summary>
    Task DrainAsync(CancellationToken cancellationToken = default);
}
